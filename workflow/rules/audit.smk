# The audit (target `audit`): every input hashed again, every product key
# recomputed from the current inputs, config and code, every product's seal
# and every table's record checked; one line per problem, then
# "audit: OK (N products, M inputs)" or the count of problems. It has no
# output, so it runs whenever it is asked for (its benchmark, which Snakemake
# counts as an output, is removed at every start), and it changes nothing.
AUDIT_BENCHMARK = "benchmarks/audit.tsv"
if workflow.is_main_process and AUDITING and os.path.exists(AUDIT_BENCHMARK):
    os.remove(AUDIT_BENCHMARK)


rule audit:
    log:
        "logs/audit.log",
    benchmark:
        AUDIT_BENCHMARK
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=CATALOG_MEM_MB,
        runtime=CATALOG_RUNTIME,
    params:
        cfg=audit_params,
    script:
        entry_script("audit.py")
