"""Tools for developers: the evaluation and the benchmark. The app never imports this package."""
