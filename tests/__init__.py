"""planalyzer's test suite (a package so that ``tests.fixtures_db`` can be named as a plugin)."""
