"""Bayesian optimisation and its baselines for continuous problems.

``bayesopt`` owns the BoTorch campaigns (qLogNEHVI, qNParEGO), the baselines they are
measured against (Sobol quasi-random search, NSGA-II via pymoo), the built-in test
problems (BoTorch's multi-objective test functions, problem kind ``"test-function"``)
and the ask/tell interface through which external evaluations come in. Each algorithm
implements the ``jobs.protocol.Algorithm`` contract and reports only through its
``Recorder``. Of our own code it imports ``pareto`` and ``jobs.protocol`` and nothing
else: never ``storage`` or ``api``, since an algorithm does not know there is a
database. torch and BoTorch are imported lazily, so that the catalogue's metadata and
the Sobol baseline can be used without them.
"""
