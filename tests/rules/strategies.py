"""Hypothesis strategies for valid case dicts (shared by the rules and io tests)."""

from __future__ import annotations

from hypothesis import strategies as st

SIZES = st.integers(min_value=0, max_value=2000).map(lambda n: n / 10)  # 0.0 .. 200.0 mm, 0.1 mm steps


@st.composite
def target_entries(draw, nodal: bool, baseline: bool):
    if baseline:
        size = draw(st.integers(min_value=100, max_value=2000).map(lambda n: n / 10))
        return {"short_axis_mm" if nodal else "long_axis_mm": size}
    kind = draw(st.sampled_from(["measure", "measure", "measure", "too_small", "disappeared", "not_evaluated",
                                 "split"]))
    if kind == "measure":
        return {"short_axis_mm" if nodal else "long_axis_mm": draw(SIZES)}
    if kind == "split":
        return {"state": "split", "fragments_mm": draw(st.lists(SIZES, min_size=1, max_size=3))}
    return {"state": kind}


@st.composite
def cases(draw, max_targets: int = 5, max_non_targets: int = 3, max_follow_ups: int = 7):
    n_targets = draw(st.integers(min_value=0, max_value=max_targets))
    n_non = draw(st.integers(min_value=0 if n_targets else 1, max_value=max_non_targets))
    lesions = []
    for i in range(n_targets):
        lesions.append({"id": f"T{i + 1}", "role": "target", "site": f"organ {i // 2}", "nodal": draw(st.booleans())})
    for i in range(n_non):
        lesions.append({"id": f"NT{i + 1}", "role": "non_target", "site": "peritoneum", "nodal": draw(st.booleans())})
    n_follow = draw(st.integers(min_value=1, max_value=max_follow_ups))
    days = sorted(draw(st.sets(st.integers(min_value=1, max_value=1500), min_size=n_follow, max_size=n_follow)))
    timepoints = []
    for k, day in enumerate([0, *days]):
        baseline = k == 0
        tp = {"label": "baseline" if baseline else f"FU{k}", "day": day}
        tp["targets"] = {
            les["id"]: draw(target_entries(les["nodal"], baseline))
            for les in lesions if les["role"] == "target" and (baseline or draw(st.integers(0, 9)) > 0)
        }
        tp["non_targets"] = {
            les["id"]: draw(st.sampled_from(
                ["present", "absent", "not_evaluated"] + ([] if baseline else ["unequivocal_progression"])))
            for les in lesions if les["role"] == "non_target"
        }
        if baseline:
            tp["non_targets"] = {i: "present" for i in tp["non_targets"]}
        elif draw(st.integers(0, 9)) == 0:
            tp["new_lesions"] = [{"id": f"N{k}", "site": "bone", "equivocal": draw(st.booleans())}]
        timepoints.append(tp)
    protocol = {
        "confirmation": draw(st.booleans()),
        "continuing_pr": draw(st.booleans()),
        "reappearance_after_cr_is_pd": draw(st.booleans()),
    }
    return {"format": "recist.case/1", "subject": "P", "protocol": protocol, "lesions": lesions,
            "timepoints": timepoints}
