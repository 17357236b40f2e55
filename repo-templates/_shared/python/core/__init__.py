"""The pipeline core: platform glue shared by every repository kind that runs SageMaker pipelines.

Written once in the suite (repo-templates/_shared/python/core/) and rendered unchanged into each
kind as `<package>.core`; `copier update` replaces it, so change it in the suite, not here.

The core finds the kind's own pieces by this module contract (the package is `<package>`):

`<package>.settings`
    PROJECT_NAME, SAGEMAKER_PROJECT_ID, REGION, ARTIFACT_BUCKET_PATTERN,
    EXECUTION_ROLE_PARAMETER, NETWORK_PARAMETERS, TAGS (the platform's names, rendered from the
    suite's shared settings), and the kind's own:
    PIPELINE_NAME (str), PIPELINE_DESCRIPTION (str), INPUT_PARAMETER (the pipeline parameter
    that `--input-data` sets, or None where the pipeline reads no input data) and
    WAIT_MINUTES (how long `run-pipeline --wait` waits for the execution).
`<package>.pipeline`
    `get_pipeline(region, role, default_bucket, network=None, ...)`: AWS's familiar contract,
    returning a `sagemaker.workflow.pipeline.Pipeline`; `network` is a `core.platform.JobNetwork`
    (the platform's VPC and KMS key) or None.
    `report_local(result)`: print what a local run produced (metrics, registered packages).
`<package>.local_run`
    `LocalPipelineRun`, `LocalRunError`, `PipelineFailed`: the local runner.

Modules: `platform` (account, role, network and bucket lookups), `session` (the SDK session,
telemetry off, quiet logging), `embedded` (the in-process AWS of local runs and tests) and `cli`
(the `get-pipeline-definition` and `run-pipeline` entry points).
"""
