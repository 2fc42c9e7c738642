#!/usr/bin/env python3
"""Reference data from the ABM framework comparison's own Mesa models.

What it measures
----------------
This script imports the Mesa model classes of JuliaDynamics/ABMFrameworksComparison from a
checkout of that repository (nothing of theirs is copied here: the checkouts are given on the
command line and their modules are imported from there), runs them for many seeds and writes
per-step observables as CSV files, for microsim's validation tests to compare against.

* WolfSheep (HEAD checkout, ``WolfSheep/Mesa``), the two sizes of their
  ``benchmark_wolfsheep.py`` (small: 25x25, 60 sheep, 40 wolves, reproduce 0.2/0.1, grass
  regrowth 20; large: 100x100, 1000 sheep, 500 wolves, 0.4/0.2, regrowth 10), seeds 1..N, 100
  steps. Per step: sheep and wolves alive (``model.agents_by_type``). Step 0 is the state
  before any step. -> ``wolf_sheep_mesa.csv``: ``size,seed,step,sheep,wolves``.

  How the model is advanced matters. Their model schedules grass regrowth as events on its
  ``ABMSimulator``; those events only fire when the simulator advances. Their benchmark calls
  ``model.step()`` directly, so there the grass never grows back (only the half of the grass
  grown at the start is ever eaten). By default (``--wolfsheep-driver simulator``) this script
  advances the model with ``model.simulator.run_for(1)``, which runs ``model.step()`` and then
  the regrowth events due at that tick: the model as declared, with regrowth.
  ``--wolfsheep-driver step`` reproduces what their benchmark runs (no regrowth).

* Schelling (HEAD, ``Schelling/Mesa``): small (40x40, homophily 3, radius 1, density 0.625)
  and large (100x100, homophily 8, radius 2, density 0.8), seeds 1..N, up to 100 steps. After
  each step (and at step 0) the grid is read back and, for every agent, the agents of its own
  type among the occupied cells of its Moore neighbourhood of the model's radius (the
  (2r+1)^2 square less the centre, not wrapped: what ``cell.get_neighborhood(radius)`` gives,
  as their ``step`` counts it) are counted. ``happy_share``: share of agents with
  ``same >= homophily``. ``segregation``: the mean over agents with at least one neighbour of
  ``same / neighbours``. Once every agent is happy no agent moves again, so the remaining steps
  are not run but filled with the same values (exact). -> ``schelling_mesa.csv``:
  ``size,seed,step,happy_share,segregation`` and ``schelling_mesa_steps.csv``:
  ``size,seed,steps_to_all_happy`` (first step, 0..100, with every agent happy; empty if none).
  The numpy neighbour counts are checked against Mesa's own ``get_neighborhood`` for seed 1 of
  each size at steps 0 and 1 (``--no-check`` skips that).

* Flocking (HEAD, ``Flocking/Mesa``): small (200 birds, 100x100, vision 5) and large (400
  birds, 150x150, vision 15), seeds 1..N, 100 steps. With u_i = direction_i / |direction_i|
  (the initial directions are not unit vectors): ``polarization`` = |mean_i u_i|;
  ``local_alignment`` = mean, over birds with at least one other bird within ``vision``
  (torus distance, ``<=``, as ``get_neighbors_in_radius``), of cos(angle(u_i, sum_j u_j)) over
  those neighbours j. -> ``flocking_mesa.csv``: ``size,seed,step,polarization,local_alignment``.

* ForestFire (the ea70076 checkout, ``ForestFire/Mesa``; it is gone from HEAD): 100x100,
  densities 0.40, 0.45, ..., 0.80, seeds 1..N, run until no tree burns. ``burnt_share`` = trees
  in state 3 (burnt out) / trees at the start (the first column's trees start burning and
  count as trees). ``burnt_share_100`` after exactly 100 steps (the final value if the fire
  was out earlier), ``burnt_share_final`` when the fire is out, ``steps_to_out`` = the number of
  steps after which no tree is burning. -> ``forest_fire_mesa.csv``:
  ``density,seed,burnt_share_100,burnt_share_final,steps_to_out``.

Seeds are passed as their model's ``seed`` argument (Mesa seeds ``model.random`` and
``model.rng`` with it). Floats are written with 6 significant digits.

How to run
----------
With a venv holding mesa==3.2.0 (and its numpy), from the repository root::

    nice -n 10 /path/to/venv/bin/python3 scripts/mesa_reference.py \\
        /path/to/ABMFrameworksComparison-HEAD /path/to/ABMFrameworksComparison-ea70076 \\
        tests/data/abm

Options: ``--parts wolfsheep,schelling,flocking,forestfire`` (default: all),
``--seeds-wolfsheep 200 --seeds-schelling 100 --seeds-flocking 50 --seeds-forestfire 50``,
``--budget-wolfsheep-large SECONDS`` (stop the large WolfSheep after the seed that passes this
wall time, but never before ``--min-seeds-wolfsheep-large``), ``--wolfsheep-driver
simulator|step``, ``--wolfsheep-out FILE`` (name of the WolfSheep CSV), ``--no-check``.
Progress and timings go to stderr.
"""

import argparse
import csv
import importlib
import math
import os
import sys
import time

import numpy as np


def fmt(x):
    """A float with 6 significant digits; NaN / None as an empty field."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x:.6g}"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def import_from(directory, *names):
    """Import the modules `names` from `directory` (their files import their siblings by
    plain name, so the directory goes on sys.path while they load)."""
    directory = os.path.abspath(directory)
    if not os.path.isdir(directory):
        sys.exit(f"no such directory: {directory}")
    sys.path.insert(0, directory)
    try:
        mods = []
        for name in names:
            mod = importlib.import_module(name)
            if not os.path.abspath(mod.__file__).startswith(directory + os.sep):
                sys.exit(f"module {name} came from {mod.__file__}, not {directory}")
            mods.append(mod)
        return mods
    finally:
        sys.path.remove(directory)


# ----------------------------------------------------------------------------- WolfSheep

WOLFSHEEP_SIZES = {
    # height, width, initial_sheep, initial_wolves, sheep_reproduce, wolf_reproduce, regrowth
    "small": (25, 25, 60, 40, 0.2, 0.1, 20),
    "large": (100, 100, 1000, 500, 0.4, 0.2, 10),
}


def wolfsheep(args, out):
    ws_mod, ag_mod = import_from(os.path.join(args.head, "WolfSheep", "Mesa"), "WolfSheep", "agents")
    WolfSheep, Sheep, Wolf = ws_mod.WolfSheep, ag_mod.Sheep, ag_mod.Wolf
    path = os.path.join(out, args.wolfsheep_out)
    seeds_done = {}
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["size", "seed", "step", "sheep", "wolves"])
        for size, params in WOLFSHEEP_SIZES.items():
            t0 = time.time()
            n = 0
            for seed in range(1, args.seeds_wolfsheep + 1):
                model = WolfSheep(seed, *params)
                by_type = model.agents_by_type

                def count(cls):
                    s = by_type.get(cls)
                    return 0 if s is None else len(s)

                w.writerow([size, seed, 0, count(Sheep), count(Wolf)])
                for step in range(1, 101):
                    if args.wolfsheep_driver == "simulator":
                        model.simulator.run_for(1)
                    else:
                        model.step()
                    w.writerow([size, seed, step, count(Sheep), count(Wolf)])
                if args.wolfsheep_driver == "simulator":
                    assert model.steps == 100 and model.simulator.time == 100, (model.steps, model.simulator.time)
                n = seed
                el = time.time() - t0
                if seed % 20 == 0:
                    log(f"wolfsheep {size}: {seed} seeds, {el:.0f} s")
                if (size == "large" and el > args.budget_wolfsheep_large
                        and seed >= args.min_seeds_wolfsheep_large):
                    log(f"wolfsheep large: time budget reached after {seed} seeds")
                    break
            seeds_done[size] = n
            log(f"wolfsheep {size}: {n} seeds in {time.time() - t0:.1f} s")
    return seeds_done


# ----------------------------------------------------------------------------- Schelling

SCHELLING_SIZES = {
    # height, width, homophily, radius, density
    "small": (40, 40, 3, 1, 0.625),
    "large": (100, 100, 8, 2, 0.8),
}


def schelling_counts(model, radius):
    """For each agent (in model.agents order): (type, same-type neighbours, occupied
    neighbours) over the non-wrapped Moore square of `radius`, centre excluded."""
    agents = list(model.agents)
    xy = np.array([a.cell.coordinate for a in agents], dtype=np.int64)
    types = np.array([a.type for a in agents], dtype=np.int64)
    W, H = model.grid.dimensions
    r = radius
    # padded one-hot layers: occupancy of type 0 and type 1
    pad = np.zeros((2, W + 2 * r, H + 2 * r), dtype=np.int32)
    np.add.at(pad, (types, xy[:, 0] + r, xy[:, 1] + r), 1)
    if pad.max() > 1:
        raise RuntimeError("two agents on one cell")
    box = np.zeros((2, W, H), dtype=np.int32)
    for dx in range(-r, r + 1):
        for dy in range(-r, r + 1):
            if dx == 0 and dy == 0:
                continue
            box += pad[:, r + dx:r + dx + W, r + dy:r + dy + H]
    same = box[types, xy[:, 0], xy[:, 1]]
    occupied = box[0, xy[:, 0], xy[:, 1]] + box[1, xy[:, 0], xy[:, 1]]
    return agents, types, same, occupied


def schelling_check(model, radius):
    """Compare the numpy counts with Mesa's own neighbourhood, as their step counts it."""
    agents, types, same, occupied = schelling_counts(model, radius)
    for a, s, o in zip(agents, same, occupied):
        nb = list(a.cell.get_neighborhood(radius=radius).agents)
        ms = sum(1 for b in nb if b.type == a.type)
        if ms != s or len(nb) != o:
            raise RuntimeError(f"neighbour count mismatch at {a.cell.coordinate}: "
                               f"mesa {ms}/{len(nb)} numpy {s}/{o}")
    return len(agents)


def schelling(args, out):
    (sch_mod,) = import_from(os.path.join(args.head, "Schelling", "Mesa"), "Schelling")
    SchellingModel = sch_mod.SchellingModel
    with open(os.path.join(out, "schelling_mesa.csv"), "w", newline="") as f, \
            open(os.path.join(out, "schelling_mesa_steps.csv"), "w", newline="") as g:
        w = csv.writer(f, lineterminator="\n")
        wg = csv.writer(g, lineterminator="\n")
        w.writerow(["size", "seed", "step", "happy_share", "segregation"])
        wg.writerow(["size", "seed", "steps_to_all_happy"])
        for size, (height, width, homophily, radius, density) in SCHELLING_SIZES.items():
            t0 = time.time()
            stepped = 0
            for seed in range(1, args.seeds_schelling + 1):
                model = SchellingModel(seed, height, width, homophily, radius, density)
                first_all = None
                for step in range(0, 101):
                    if step > 0:
                        model.step()
                        stepped += 1
                    if not args.no_check and seed == 1 and step <= 1:
                        k = schelling_check(model, radius)
                        log(f"schelling {size}: seed 1 step {step}: numpy counts == mesa's for {k} agents")
                    _, _, same, occ = schelling_counts(model, radius)
                    n = len(same)
                    happy = int((same >= homophily).sum())
                    has = occ > 0
                    seg = float((same[has] / occ[has]).mean()) if has.any() else float("nan")
                    row = [size, seed, step, fmt(happy / n), fmt(seg)]
                    w.writerow(row)
                    if happy == n:
                        first_all = step
                        # nobody moves from here on: the remaining steps look the same
                        for later in range(step + 1, 101):
                            w.writerow([size, seed, later, row[3], row[4]])
                        break
                wg.writerow([size, seed, "" if first_all is None else first_all])
                if seed % 10 == 0:
                    log(f"schelling {size}: {seed} seeds, {time.time() - t0:.0f} s")
            log(f"schelling {size}: {args.seeds_schelling} seeds, {stepped} model steps run, "
                f"{time.time() - t0:.1f} s")


# ----------------------------------------------------------------------------- Flocking

FLOCKING_SIZES = {
    # population, width, height, vision
    "small": (200, 100, 100, 5),
    "large": (400, 150, 150, 15),
}


def flocking_measure(model, size_wh, vision):
    agents = list(model.agents)
    d = np.array([a.direction for a in agents], dtype=float)
    u = d / np.linalg.norm(d, axis=1)[:, None]
    polarization = float(np.linalg.norm(u.mean(axis=0)))
    size_wh = np.asarray(size_wh, dtype=float)
    p = np.array([a.position for a in agents], dtype=float) % size_wh
    delta = np.abs(p[:, None, :] - p[None, :, :])
    delta = np.minimum(delta, size_wh - delta)
    dist = np.sqrt((delta ** 2).sum(axis=2))
    near = dist <= vision
    np.fill_diagonal(near, False)
    has = near.any(axis=1)
    if not has.any():
        return polarization, float("nan")
    s = near.astype(float) @ u  # sum of the neighbours' unit headings
    s_norm = np.linalg.norm(s, axis=1)
    ok = has & (s_norm > 0)
    cos = (u[ok] * s[ok]).sum(axis=1) / s_norm[ok]
    return polarization, float(cos.mean())


def flocking(args, out):
    (fl_mod,) = import_from(os.path.join(args.head, "Flocking", "Mesa"), "Flocking")
    BoidFlockers = fl_mod.BoidFlockers
    with open(os.path.join(out, "flocking_mesa.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["size", "seed", "step", "polarization", "local_alignment"])
        for size, (population, width, height, vision) in FLOCKING_SIZES.items():
            t0 = time.time()
            for seed in range(1, args.seeds_flocking + 1):
                model = BoidFlockers(seed, population, width, height, vision)
                for step in range(0, 101):
                    if step > 0:
                        model.step()
                    pol, loc = flocking_measure(model, (width, height), vision)
                    w.writerow([size, seed, step, fmt(pol), fmt(loc)])
                if seed % 10 == 0:
                    log(f"flocking {size}: {seed} seeds, {time.time() - t0:.0f} s")
            log(f"flocking {size}: {args.seeds_flocking} seeds in {time.time() - t0:.1f} s")


# ----------------------------------------------------------------------------- ForestFire

FOREST_DENSITIES = [round(0.40 + 0.05 * i, 2) for i in range(9)]


def forestfire(args, out):
    (ff_mod,) = import_from(os.path.join(args.ff, "ForestFire", "Mesa"), "ForestFire")
    ForestFire = ff_mod.ForestFire
    side = 100

    def count(trees, state):
        return sum(row.count(state) for row in trees)

    with open(os.path.join(out, "forest_fire_mesa.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["density", "seed", "burnt_share_100", "burnt_share_final", "steps_to_out"])
        t0 = time.time()
        for density in FOREST_DENSITIES:
            for seed in range(1, args.seeds_forestfire + 1):
                model = ForestFire(seed, side, side, density)
                trees = side * side - count(model.trees, 0)
                steps = 0
                burnt_100 = None
                while model.burning_tree_coordinates:
                    model.step()
                    steps += 1
                    if steps == 100:
                        burnt_100 = count(model.trees, 3) / trees
                    if steps > 1_000_000:
                        raise RuntimeError("fire did not go out")
                final = count(model.trees, 3) / trees
                if count(model.trees, 2) != 0:
                    raise RuntimeError("a tree is still burning")
                if burnt_100 is None:
                    burnt_100 = final
                w.writerow([f"{density:.2f}", seed, fmt(burnt_100), fmt(final), steps])
            log(f"forestfire density {density:.2f}: done, {time.time() - t0:.0f} s")
        log(f"forestfire: {len(FOREST_DENSITIES)} densities x {args.seeds_forestfire} seeds in "
            f"{time.time() - t0:.1f} s")


# ----------------------------------------------------------------------------- main

PARTS = {"wolfsheep": wolfsheep, "schelling": schelling, "flocking": flocking,
         "forestfire": forestfire}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("head", help="checkout of ABMFrameworksComparison at HEAD")
    ap.add_argument("ff", help="checkout of ABMFrameworksComparison at ea70076 (has ForestFire)")
    ap.add_argument("out", help="directory for the CSV files")
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--seeds-wolfsheep", type=int, default=200)
    ap.add_argument("--budget-wolfsheep-large", type=float, default=600.0)
    ap.add_argument("--min-seeds-wolfsheep-large", type=int, default=100)
    ap.add_argument("--wolfsheep-driver", choices=["simulator", "step"], default="simulator")
    ap.add_argument("--wolfsheep-out", default="wolf_sheep_mesa.csv")
    ap.add_argument("--seeds-schelling", type=int, default=100)
    ap.add_argument("--seeds-flocking", type=int, default=50)
    ap.add_argument("--seeds-forestfire", type=int, default=50)
    ap.add_argument("--no-check", action="store_true")
    args = ap.parse_args()

    import mesa
    log(f"mesa {mesa.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    os.makedirs(args.out, exist_ok=True)
    for part in args.parts.split(","):
        if part not in PARTS:
            sys.exit(f"unknown part {part!r}; choose from {', '.join(PARTS)}")
        t0 = time.time()
        log(f"{part}: start")
        PARTS[part](args, args.out)
        log(f"{part}: done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
