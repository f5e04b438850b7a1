"""The no-silent-skips plugin: a skip of a required test fails the run; an optional one is reported."""

from __future__ import annotations

pytest_plugins = ["pytester"]


def test_a_skipped_required_test_fails_and_an_optional_one_is_reported(pytester):
    pytester.makeconftest('pytest_plugins = ["tests.no_silent_skips"]')
    pytester.makepyfile('''
        import pytest

        def test_needs_a_missing_part():
            pytest.skip("the Rasa venv is not set up")

        @pytest.mark.optional
        def test_may_not_run_here():
            pytest.skip("no GPU")

        @pytest.fixture
        def model():
            pytest.fail("a required part is missing: the NLU cannot be imported (ImportError: faiss)")

        def test_uses_the_model(model):
            pass

        def test_also_uses_the_model(model):
            pass

        def test_runs():
            assert True
    ''')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, skipped=1, errors=2)
    result.stdout.fnmatch_lines(["*a required part is missing*the Rasa venv is not set up*",
                                 "*REQUIRED PARTS MISSING: 3 tests failed*",
                                 "*2 × the NLU cannot be imported (ImportError: faiss)*",
                                 "*1 × *the Rasa venv is not set up*",
                                 "*optional tests that did not run: 1*"])
