"""Sub-commands of ``jinxiaoer``: one module each, with ``register(subparsers)``."""
