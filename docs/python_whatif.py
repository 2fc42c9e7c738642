# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Mamma Mia under the Christmas tree, from Python
#
# 600,000 DVDs are each given to one of 2,000,000 Christmas trees at random. How many trees
# get 1, 2, 3 … copies, and what if the gifts were skewed towards some households? This
# notebook (a script: `python docs/python_whatif.py`, or open it as a notebook with
# jupytext) runs the Mamma Mia scenario and its what-if sweep with `microsim.run`, reads the
# results as DataFrames and draws the distributions with matplotlib. CI runs it as a script.
#
# Install: `pip install ./python pandas matplotlib` (see docs/python.md). Run it from the
# repository's root (it reads `scenarios/`); pictures go to `MICROSIM_DOCS_OUT`
# (default `outputs/python_whatif`).

# %%
import os
from pathlib import Path

import matplotlib

if "ipykernel" not in os.sys.modules:
    matplotlib.use("Agg")  # as a script: files only
import matplotlib.pyplot as plt

import microsim

out = Path(os.environ.get("MICROSIM_DOCS_OUT", "outputs/python_whatif"))
out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## The post's question: ten runs
# `microsim.run` runs a scenario file as `microsim run` does and returns a `Result`. Its
# `replications` is a DataFrame with one row per replication; `summary` is `summary.json`.

# %%
base = microsim.run("scenarios/mamma_mia.toml", out=out / "mamma_mia", force=True)
print(base)
cols = [f"bins_with_{k}" for k in range(1, 8)]
print(base.replications[["replication", "seed"] + cols].to_string(index=False))
print(base.metrics.loc[cols, ["mean", "ci95_lo", "ci95_hi"]])

# %% [markdown]
# The DataFrame's means are `summary.json`'s, and the post's ten runs gave ~444.5k trees
# with 1 copy, ~66.7k with 2, ~6.7k with 3, ~500 with 4, ~30 with 5.

# %%
for k, post in zip(range(1, 6), [444_500, 66_700, 6_700, 500, 30]):
    mean = base.replications[f"bins_with_{k}"].mean()
    assert mean == base.summary["metrics"][f"bins_with_{k}"]["mean"]
    print(f"trees with {k}: {mean:>10.1f}   (the post: ~{post})")

# %% [markdown]
# ## The whole distribution, from the histogram
# `histogram(name)` decodes `histograms/NAME.hlog` into numpy arrays: the values (copies
# under a tree) and how many trees had each, over all replications.

# %%
copies, trees = base.histogram("copies_per_bin")
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.bar(copies, trees / len(base.replications), color="#4477aa")
ax.set_yscale("log")
ax.set_xlabel("copies under a tree")
ax.set_ylabel("trees (mean per replication)")
ax.set_title("Mamma Mia: 600k DVDs under 2M trees")
fig.tight_layout()
fig.savefig(out / "copies_per_tree.png", dpi=120)

# %% [markdown]
# ## What if the gifts are skewed?
# The what-if sweeps the Zipf exponent of the trees' popularity and the number of DVDs. Every
# variant reuses the replication seeds (common random numbers), so `sweep` holds paired
# differences to the baseline variant. Fewer replications than the file's 20 keep this
# quick.

# %%
whatif = microsim.run("scenarios/mamma_mia_whatif.toml", replications=10,
                      out=out / "whatif", force=True)
cols = ["variant", "model.items", "model.zipf_s", "bins_with_1_mean", "bins_with_1_diff",
        "bins_with_1_diff_lo", "bins_with_1_diff_hi", "max_per_bin_mean"]
print(whatif.sweep[[c for c in cols if c in whatif.sweep.columns]].to_string(index=False))

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for v in whatif.variants:
    sc = v.scenario
    s = next(line.split("=")[1].strip() for line in sc.splitlines() if line.startswith("zipf_s"))
    items = next(line.split("=")[1].strip() for line in sc.splitlines()
                 if line.startswith("items"))
    x, n = v.histogram("copies_per_bin")
    ax.plot(x, n / len(v.replications), marker=".", markersize=3, linewidth=1,
            label=f"items {items}, zipf s {s}")
ax.set_yscale("log")
ax.set_xscale("symlog", linthresh=1)
ax.set_xlim(left=0)
ax.set_xlabel("copies under a tree")
ax.set_ylabel("trees (mean per replication)")
ax.set_title("What if gifts are skewed?")
ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(out / "whatif_distributions.png", dpi=120)

# %% [markdown]
# ## Two runs compared
# `compare(a, b)` is `microsim compare`: per metric, the means, `b − a` and its confidence
# interval, paired when both runs used the same seeds.

# %%
skewed = whatif.variants[2]
diff = microsim.compare(whatif.variants[0], skewed)
print(diff.loc[["bins_with_1", "bins_with_2", "bins_empty", "max_per_bin"],
               ["a", "b", "difference", "ci_lo", "ci_hi", "method"]].to_string())

# %%
print(f"pictures in {out}: {sorted(p.name for p in out.glob('*.png'))}")
