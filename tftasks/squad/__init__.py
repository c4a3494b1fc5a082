"""SQuAD 1.1 / 2.0 span question answering: Google's run_squad.py on the fine-tuning skeleton.

Modules: `config` (SquadConfig: the flags), `examples` (JSON reading),
`features` (windows, max context, labels), `records` (train.tf_record),
`inference`, `postprocess` (Google's write_predictions), `evaluation`
(official EM/F1), `task` (SpanTask), `session` (SquadSession), `export`
(raw-text SavedModel), `runner` (run).

Example:

    from tftasks.squad import SquadConfig, run
    run(SquadConfig(init_checkpoint="model", do_predict=True, predict_file="dev.json",
                    output_dir="out"))
"""

from tftasks.squad.config import SquadConfig
from tftasks.squad.runner import run

__all__ = ["SquadConfig", "run"]
