"""`numpynn check FILE.py`: grade a learner's own `neural_network.py`, function by function, against numpynn's.

cases (the inputs per function), mistakes (the common wrong results, each with its one-line hint), diagnose
(one output against the expected one), grading (one function over its cases), worker (the child process that
imports the learner's file), sandbox (the parent side: time limit, crashes) and report (table, JSON).
"""
