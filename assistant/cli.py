def main(argv=None):
    print("placeholder")
    return 0
