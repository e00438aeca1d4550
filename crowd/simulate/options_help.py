"""The long help of ``crowd simulate``: what it does, the kinds of worker, the mixes,
and why its defaults are what they are."""
from __future__ import annotations

DESCRIPTION = """\
Simulate a crowd against the real HTTP API, over a project with known truth, and
report what the server made of it: accuracy, labels per item, gold and expert
effort, how fast drifting workers were caught, and whether good workers were hurt.

Simulated workers, each kind with a share option (the shares add up to 1):
  --reliable       class-dependent confusion, accuracy 0.85 +- 0.1 per class (or,
                   with --reliable-accuracy LO-HI, a mean drawn per worker in
                   that range, +- 0.05 per class); errors lean towards the common
                   classes when --class-shares skews them
  --spammers       uniform random
  --adversaries    give the swapped partner of the true class
  --drifters       reliable, then 0.3 accurate from --drift-onset work answers on
  --lazy           lazy clickers: always the class most often expected in the
                   feedback seen so far (half of them), or one fixed class
  --colluders      groups of --collusion-group workers; each group gives one
                   wrong label for every work item of one class, honest otherwise
  --sniffers-id, --sniffers-content, --sniffers-timing
                   gold sniffers: remember what qualification and training
                   (all gold, by their mode) showed, then in work answer honestly
                   only what they take for gold, at random otherwise: an item id
                   met again or within 3 of one (numeric ids), the data of a gold
                   item repeated, or a `next` unusually slow or fast (3 robust
                   sigmas from the median of the work offers so far); each guess
                   is recorded and the report gives its precision and recall
  --slow-drifters  about 0.9 for --slow-drift-after work answers, then linearly
                   down to 0.4 over --slow-drift-over more
  --speed-bots     answer at once, at random, duration_ms 50-400
Every worker acts through the API only: what it sees is what a client sees
(ids, data, mode, labels, the time a call took, feedback in qualification and
training); the simulator keeps the truth and which items are gold to itself.

--mix acceptance, the mix the quality rules are measured on: 60 workers, 45%
reliable at --reliable-accuracy 0.8-0.95, the other 55% split among the bad
kinds (3 each of spammers, adversaries, drifters, lazy, each sniffer, slow
drifters and speed bots, and 6 colluders in 2 groups of 3); 1,500 items of 4
classes with --class-shares 55,25,15,5; redundancy 3, max_redundancy 7,
gold_rate 0.1; gold imported as a batch of its own after the work items
(--gold-import separate, as managers usually do, so gold ids form a block).
Any option given beside --mix overrides the mix's value.

Without --url the simulator starts a server of its own (gunicorn on a
free port, production settings, the scheduled jobs on) on a temporary SQLite
database or on --database-url, and stops it at the end. With --url, whether the
server's drift job runs is that server's setting (CROWD_SCHEDULER_ENABLED, or a
`crowd scheduler` process); without it only hidden gold can catch a drifter.
Aggregation, and an oracle expert resolving every item in review with the truth,
run every --aggregate-every answers and at the end.

Defaults a team would pick for a crowd like this one (the server's own defaults
fit a smaller, cleaner crowd):
  --qualification-size 20 --qualification-accuracy 0.5: a worker must get 10 of
    20 gold right (chance is 1 in --classes). A 0.85 worker fails with
    probability 4e-5 (0.80: 6e-4); a spammer passes with 1.4% and an adversary
    practically never. The server's default, 8 of 10, fails a 0.85 worker with
    probability 0.18. The few spammers who pass are left to the drift checks.
  --drift-window 12: at --gold-rate 0.1 an active worker meets only about 20
    hidden gold items in this whole project, so the server default of 20 is
    seldom full. 12 is the smallest window on which the exact 1% binomial test
    against --min-accuracy 0.7 uses nearly all its risk: it fires at 4 or fewer
    right of 12 (P = 0.0095 at the floor), where a window of 10 fires only at
    2 or fewer (P = 0.0016) and lets a worker fallen to 0.3 pass 20 gold
    answers one time in four (at 12: 1 in 15; 1 in 30 by 24). A 0.85 worker
    trips it with probability 7e-5 per check. The window also sets the
    server's check on Dawid-Skene accuracy (the drift job; from 2 x window work
    labels on), which catches most drifters first.
  --gold-items: 10% of --items (at least 4 x --qualification-size), enough
    unseen gold for a qualification round, a retraining round and the hidden gold
    of the busiest worker.
  --drift-onset 40: drifters change after 40 work answers, about a quarter of
    the ~170 each active worker gives here, so the drop must be caught mid-run.
    A later onset leaves a drifter too few gold answers before the project ends
    (at 80, about 10) for any 1% test on gold to be sure of it.
"""
