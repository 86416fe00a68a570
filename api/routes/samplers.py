"""New candidates drawn from a GFlowNet campaign's stored sampler.

A ``mogfn`` campaign stores its trained sampler (``morl.gfn_sampler``) as an artifact
on the last evaluation of every round, a ``mogfn-al`` campaign on the last evaluation
of every acquisition round. ``GET /campaigns/{id}/sample`` loads the latest one and
draws objects from it, for any preference on the simplex, not only those the campaign
trained or was evaluated at. Each object is scored by the campaign's task: the
objective vectors answered are the task's rewards (for ``mogfn-al``, the real
objectives, not the surrogate's), and nothing is stored.

torch is imported on the first request only (``morl.gfn_sampler``), so the API starts
without it; loaded samplers are cached by their artifact's sha256 (artifacts never
change).
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from api.deps import CampaignDep, SessionDep
from api.routes.fronts import _objective, _query_error, _split
from api.schemas import SampledCandidateOut, SampleOut
from storage import get_artifact, latest_with_artifact

# Algorithms whose artifacts are GFlowNet samplers (``morl.gfn_sampler.load_sampler``).
GFN_ALGORITHMS = ("mogfn", "mogfn-al")
MAX_SAMPLES = 1000
CACHED_SAMPLERS = 8

router = APIRouter(tags=["samplers"])

_cache: OrderedDict[str, Any] = OrderedDict()
_cache_lock = Lock()


@router.get("/campaigns/{campaign_id}/sample", response_model=SampleOut,
            responses={409: {"description": "not a GFlowNet campaign, or no sampler "
                                            "stored yet, or one this server cannot load"}})
def sample(
    campaign: CampaignDep,
    session: SessionDep,
    preference: Annotated[str | None, Query(
        max_length=2000,
        description="comma-separated weights, one per objective in the campaign's order: "
        "finite, >= 0, not all 0 (scaled to sum 1), e.g. 0.7,0.3. Required for a mogfn "
        "sampler; left out for a mogfn-al sampler, which is not preference-conditioned",
    )] = None,
    n: Annotated[int, Query(ge=1, le=MAX_SAMPLES,
                            description="how many objects to draw")] = 16,
    seed: Annotated[int, Query(ge=0, le=2**63 - 1,
                               description="seed of the draw: the same seed, preference "
                               "and sampler give the same objects")] = 0,
) -> SampleOut:
    """Draw ``n`` new objects from the campaign's latest stored GFlowNet sampler,
    conditioned on ``preference`` (mogfn): trajectories from the forward policy
    P_F(· | s, w) without exploration, each terminal object answered readable (a
    sequence string, grid coordinates…) with its objective vector under the task and
    the preference it was drawn for. Nothing is stored. 409 when the campaign is not a
    GFlowNet campaign (mogfn, mogfn-al) or has stored no sampler yet; 422 naming the
    field for a bad preference or n outside 1..1000."""
    if campaign.algorithm not in GFN_ALGORITHMS:
        raise HTTPException(409, (
            f"campaign {campaign.id} runs {campaign.algorithm!r}, not a GFlowNet: only "
            f"{' and '.join(GFN_ALGORITHMS)} campaigns store a sampler to draw from"
        ))
    holder = latest_with_artifact(session, campaign.id)
    if holder is None or holder.artifact_id is None:
        raise HTTPException(409, (
            f"campaign {campaign.id} ({campaign.status}, {campaign.n_evaluations} "
            f"evaluations) has stored no sampler yet: {campaign.algorithm} stores one at the "
            "end of each training round; try again once its first round is recorded"
        ))
    blob = get_artifact(session, holder.artifact_id)
    if blob is None:  # the campaign was deleted since its evaluation was read
        raise HTTPException(404, f"campaign {campaign.id} does not exist")
    sampler = _load(blob.sha256, blob.data, campaign.id)
    weights = _parse_preference(preference, sampler)
    drawn = sampler.sample(None if weights is None else weights, n, seed=seed)
    chosen = None if weights is None else [float(v) for v in weights]
    return SampleOut(
        campaign_id=campaign.id,
        algorithm=campaign.algorithm,
        task={"id": sampler.task.id, "config": sampler.task.config.model_dump(mode="json")},
        objectives=[_objective(campaign, i) for i in range(campaign.n_objectives)],
        preference=chosen,
        preference_conditioned=sampler.preference_conditioned,
        n=n,
        seed=seed,
        evaluation_id=holder.id,
        artifact_url=f"/api/v1/evaluations/{holder.id}/artifact",
        trained=dict(sampler.trained),
        candidates=[SampledCandidateOut(object=obj, objectives=values, preference=chosen)
                    for obj, values in drawn],
    )


def _load(sha256: str, data: bytes, campaign_id: int) -> Any:
    with _cache_lock:
        if sha256 in _cache:
            _cache.move_to_end(sha256)
            return _cache[sha256]
    from morl.gfn_sampler import load_sampler  # torch: only when a sampler is asked for

    try:
        sampler = load_sampler(data)
    except ValueError as exc:  # e.g. a user task that is not registered in this process
        raise HTTPException(409, f"campaign {campaign_id}'s sampler cannot be loaded "
                                 f"here: {exc}") from None
    with _cache_lock:
        _cache[sha256] = sampler
        while len(_cache) > CACHED_SAMPLERS:
            _cache.popitem(last=False)
    return sampler


def _parse_preference(text: str | None, sampler: Any) -> Any:
    """The sampler's weights for the query's preference (None for a sampler that is not
    preference-conditioned), or a 422 naming ``preference``."""
    values = None
    if text is not None:
        try:
            values = [float(part) for part in _split(text, "preference")]
        except ValueError:
            raise _query_error(
                "preference", f"{text!r} is not a comma-separated list of numbers"
            ) from None
    try:
        weights = sampler.check_preference(values)
    except ValueError as exc:
        raise _query_error("preference", str(exc)) from None
    return weights if sampler.preference_conditioned else None
