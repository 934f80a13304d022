"""Stateful fake vendor servers on 127.0.0.1 that speak each vendor's wire protocol.

Scores come from our own dlib embeddings of the faces in the bytes received (:mod:`.faces`), so
genuine pairs score differently from impostors and a face the detector cannot find (e.g. under a
mask) is a real "no face" answer. Each fake keeps a request log, can inject faults (throttles,
errors) per operation, and can hold an operation open to simulate a process killed mid-run.
"""
