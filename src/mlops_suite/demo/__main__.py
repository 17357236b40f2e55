"""`python -m mlops_suite.demo`: see the package docstring."""

from mlops_suite.demo import main

raise SystemExit(main())
