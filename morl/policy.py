"""Runnable policies and the artifact format they are stored in.

A stored policy is everything needed to act without the training code: the actor's
weights, its layer sizes, the action space, and the observation normaliser's running
mean and variance (a PPO policy sees normalised observations, so its weights are
useless without them). It is serialised with ``torch.save`` to a dict of plain
tensors, lists and strings, and read back with ``torch.load(weights_only=True)``, so
loading an artifact never executes stored code.

    policy = load_policy(artifact_bytes)   # or a path, or a file object
    action = policy.act(observation)       # deterministic: argmax / distribution mean

``kind`` tells the formats apart: ``ppo`` (C-MORL: one policy per evaluation row) and
the preference-conditioned kinds of PD-MORL, which also take ``act(obs, preference)``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch
from torch import nn

FORMAT = "mofront.policy/1"


@dataclass(frozen=True)
class ActionSpace:
    """``discrete`` with ``n`` actions, or a ``box`` with per-dimension bounds."""

    kind: str
    n: int = 0
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()

    @property
    def dim(self) -> int:
        return self.n if self.kind == "discrete" else len(self.low)

    @classmethod
    def of(cls, space: Any) -> ActionSpace:
        if hasattr(space, "n"):
            return cls("discrete", n=int(space.n))
        return cls("box", low=tuple(float(v) for v in np.ravel(space.low)),
                   high=tuple(float(v) for v in np.ravel(space.high)))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "n": self.n, "low": list(self.low), "high": list(self.high)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionSpace:
        return cls(data["kind"], int(data["n"]), tuple(data["low"]), tuple(data["high"]))


class RunningMeanStd:
    """Running mean and variance (Chan et al.'s parallel update), float64."""

    def __init__(self, shape: tuple[int, ...]):
        self.mean = np.zeros(shape)
        self.var = np.ones(shape)
        self.count = 1e-4

    def update(self, batch: np.ndarray) -> None:
        batch = np.asarray(batch, dtype=np.float64)
        batch_mean, batch_var, batch_count = batch.mean(axis=0), batch.var(axis=0), len(batch)
        delta = batch_mean - self.mean
        total = self.count + batch_count
        self.mean = self.mean + delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count + delta**2 * self.count * batch_count / total
        self.var = m2 / total
        self.count = total

    def state(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "var": self.var.tolist(), "count": float(self.count)}

    def load(self, state: dict[str, Any]) -> None:
        self.mean = np.asarray(state["mean"], dtype=np.float64)
        self.var = np.asarray(state["var"], dtype=np.float64)
        self.count = float(state["count"])


OBS_CLIP = 10.0


def normalise(obs: np.ndarray, rms: RunningMeanStd) -> np.ndarray:
    return np.clip((obs - rms.mean) / np.sqrt(rms.var + 1e-8), -OBS_CLIP, OBS_CLIP)


def mlp(sizes: list[int], activation: type[nn.Module] = nn.Tanh) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class Actor(nn.Module):
    """A tanh MLP to action logits (discrete) or to the mean of a diagonal Gaussian with
    a state-independent log standard deviation (continuous), as in PPO's MuJoCo setup."""

    def __init__(self, obs_dim: int, action: ActionSpace, hidden: list[int]):
        super().__init__()
        self.action = action
        self.body = mlp([obs_dim, *hidden, action.dim])
        if action.kind == "box":
            self.log_std = nn.Parameter(torch.zeros(action.dim))

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Distribution:
        out = self.body(obs)
        if self.action.kind == "discrete":
            return torch.distributions.Categorical(logits=out)
        return torch.distributions.Normal(out, self.log_std.exp().expand_as(out))

    def deterministic(self, obs: torch.Tensor) -> torch.Tensor:
        out = self.body(obs)
        return out.argmax(-1) if self.action.kind == "discrete" else out


class Policy:
    """A stored PPO policy: observation normaliser + actor, acting deterministically."""

    kind = "ppo"

    def __init__(self, actor: Actor, obs_rms: RunningMeanStd, env_id: str,
                 meta: dict[str, Any] | None = None):
        self.actor = actor.eval()
        self.obs_rms = obs_rms
        self.env_id = env_id
        self.meta = dict(meta or {})

    def act(self, obs: Any) -> Any:
        """The action for one observation (or a batch, leading axis), as the env takes it."""
        obs = np.asarray(obs, dtype=np.float64)
        single = obs.ndim == 1
        batch = obs[None] if single else obs
        with torch.no_grad():
            x = torch.as_tensor(normalise(batch, self.obs_rms), dtype=torch.float32)
            action = self.actor.deterministic(x).numpy()
        if self.actor.action.kind == "box":
            action = np.clip(action, self.actor.action.low, self.actor.action.high)
        return action[0] if single else action

    def to_bytes(self) -> bytes:
        return policy_bytes(self.actor, self.obs_rms, self.env_id, self.meta)


def policy_bytes(actor: Actor, obs_rms: RunningMeanStd, env_id: str,
                 meta: dict[str, Any] | None = None) -> bytes:
    hidden = [layer.out_features for layer in actor.body if isinstance(layer, nn.Linear)][:-1]
    obs_dim = next(layer for layer in actor.body if isinstance(layer, nn.Linear)).in_features
    document = {
        "format": FORMAT,
        "kind": "ppo",
        "env_id": env_id,
        "obs_dim": obs_dim,
        "hidden": hidden,
        "action": actor.action.to_dict(),
        "actor": {k: v.detach().cpu() for k, v in actor.state_dict().items()},
        "obs_rms": obs_rms.state(),
        "meta": dict(meta or {}),
    }
    buffer = io.BytesIO()
    torch.save(document, buffer)
    return buffer.getvalue()


def load_policy(artifact: bytes | str | Path | BinaryIO) -> Any:
    """A runnable policy from a stored artifact (bytes, a file path, or a file object)."""
    if isinstance(artifact, (str, Path)):
        source: Any = open(artifact, "rb")  # noqa: SIM115 -- closed below
    elif isinstance(artifact, (bytes, bytearray, memoryview)):
        source = io.BytesIO(bytes(artifact))
    else:
        source = artifact
    try:
        document = torch.load(source, map_location="cpu", weights_only=True)
    finally:
        if isinstance(artifact, (str, Path)):
            source.close()
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"not a mofront policy artifact (expected format {FORMAT!r})")
    loader = _LOADERS.get(document["kind"])
    if loader is None:
        raise ValueError(f"unknown policy kind {document['kind']!r}; known: {sorted(_LOADERS)}")
    return loader(document)


def _load_ppo(document: dict[str, Any]) -> Policy:
    action = ActionSpace.from_dict(document["action"])
    actor = Actor(int(document["obs_dim"]), action, list(document["hidden"]))
    actor.load_state_dict(document["actor"])
    obs_rms = RunningMeanStd((int(document["obs_dim"]),))
    obs_rms.load(document["obs_rms"])
    return Policy(actor, obs_rms, document["env_id"], document["meta"])


def _load_pdmorl(document: dict[str, Any]) -> Any:
    from morl.pdmorl import load_universal

    return load_universal(document)


_LOADERS: dict[str, Any] = {"ppo": _load_ppo, "pdmorl": _load_pdmorl}


def register_loader(kind: str, loader: Any) -> None:
    """Let another policy format (e.g. PD-MORL's universal network) be loaded here."""
    _LOADERS[kind] = loader
