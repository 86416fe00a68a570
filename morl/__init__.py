"""Multi-objective reinforcement learning: C-MORL, PD-MORL, MOGFN and the RL building
blocks they share (PPO/TD3/DDQN pieces, MO-Gymnasium wrappers, policy evaluation).

``morl`` imports ``pareto`` and ``jobs.protocol`` only, never ``storage`` or ``api``:
algorithms do not know there is a database. (Filled in by the MORL issues.)
"""
