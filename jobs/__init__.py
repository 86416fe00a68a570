"""The job service: campaign specs, the algorithm/problem registry, the worker loop and
the executors that run campaigns.

``jobs`` owns what a campaign *is* before it runs (``spec``: validation at submit time
against the ``registry``), how it runs (``worker``: one campaign in one process, with
a ``recorder`` that persists every evaluation, checkpoints and honours cancel) and
where it runs (``executors``: ``local`` subprocesses, or ``ray`` actors on a cluster;
``scheduler``: the loop inside ``mofront serve`` that launches, watches and resumes
workers). It imports ``pareto`` and ``storage``; algorithms are loaded lazily by import
path, so importing ``jobs`` never imports torch (nor Ray, unless the ``ray`` executor
is chosen). ``jobs.protocol`` is the only module algorithms may import.
"""
