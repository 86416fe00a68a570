"""Bayesian optimisation and its baselines for continuous problems.

``bayesopt`` owns the BoTorch campaigns (qLogNEHVI, qNParEGO), the baselines they are
measured against (Sobol quasi-random search, NSGA-II via pymoo), the built-in test
problems (BoTorch's multi-objective test functions, problem kind ``"test-function"``)
and the ask/tell interface through which external evaluations come in. Each algorithm
implements the ``jobs.protocol.Algorithm`` contract and reports only through its
``Recorder``. Of our own code it imports ``pareto`` and ``jobs.protocol`` and nothing
else: never ``storage`` or ``api``, since an algorithm does not know there is a
database. The one exception is ``mogfn_al`` (MOGFN-AL: a BO loop over discrete objects
whose acquisition optimiser is a GFlowNet), which also imports ``morl``'s GFlowNet
(``morl.mogfn``, ``morl.gfn_sampler``, ``morl.gfn_tasks``, ``morl.gfn_config``); ``morl``
never imports ``bayesopt``, so there is no cycle. torch, BoTorch and pymoo are imported lazily, so that the catalogue's
metadata, the algorithms' parameter schemas (``config``) and the Sobol baseline can be
used without them.

The BO methods keep BoTorch's seams: ``models`` fits the surrogate, ``acquisition``
builds the acquisition functions, ``bo`` optimises them and runs the campaign loop and
the ask half of ask/tell; ``nsga2`` and ``sobol`` are the baselines, ``problems`` the
test functions, ``mogfn_al`` MOGFN-AL on ``gfn-task`` problems.
"""
