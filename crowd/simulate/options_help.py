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
  --qualification-size 20 --qualification-accuracy 0.65: a sequential round
    (crowd.domain.qualification: 0.70 against 0.45, at least 20 answers before
    a pass, at most 60) on gold drawn evenly over the classes. Exactly: a worker
    at 0.80 fails 3e-4 of rounds (0.85: 2e-5, 0.75: 3e-3); a random clicker on
    four classes (0.25) practically never passes and is out after 12 answers on
    average, 40 or more in 5e-4 of rounds; at 0.35, 17 answers, 40+ in 2.8%.
    The server's default, 10 at 0.8, fails a 0.85 worker in 6.8% of rounds.
  --drift-window 12: the server's Dawid-Skene accuracy check (the drift job)
    starts at 2 x window work labels and looks back at most 5 x window; the gold
    and agreement CUSUMs need no window.
  --gold-items: 10% of --items (at least 4 x --qualification-size), enough
    unseen gold for a qualification round, a retraining round and the hidden gold
    of the busiest worker.
  --drift-onset 40: drifters change after 40 work answers, about a quarter of
    the ~170 each active worker gives here, so the drop must be caught mid-run.
    A later onset leaves a drifter too few gold answers before the project ends
    (at 80, about 10) for any 1% test on gold to be sure of it.
"""
