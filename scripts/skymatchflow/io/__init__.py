"""Files in and out: input discovery and checks, FITS reading, stage files and the product store.

Every input is opened read-only; every output is written under a temporary
name and renamed; every failure is one line naming the file (skymatchflow/errors.py).
"""
