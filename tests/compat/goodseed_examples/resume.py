# The "Resume a run" block of goodseed's README (PyPI goodseed 0.4.0; MIT License, Copyright (c)
# 2026 Matěj Kripner), verbatim at the end. Added for a runnable test: the first part creates
# and closes the run "bold-falcon" that the README's block resumes.
import goodseed

run = goodseed.Run(run_id="bold-falcon", name="resumable", description="first session")
run["train/loss"].log(0.5, step=0)
run["sys/tags"].add(["v2", "bert"])
run["sys/tags"].remove("bert")
run.close()

run = goodseed.Run(resume_run_id="bold-falcon")
run["train/loss"].log(0.3, step=123)
run["eval/f1"] = 0.85
run.close()
