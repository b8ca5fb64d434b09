"""What the Snakefile and every job share: config checks, batches, resources, the rule runner, progress."""
