# Which "suspicious" preference rows TRL 1.13's RewardTrainer trains on: builds the trainer on the tiny fixture model
# (`npm run fixtures` first) with one row of each kind and runs two optimizer steps. Prints, per row, the token counts
# TRL made and whether training ran. Used to decide what src/data/validate.ts warns about instead of refusing.
#   python tools/check_trl_accepts.py [model_dir]
import sys, tempfile, warnings
from datasets import Dataset
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from trl import RewardConfig, RewardTrainer

warnings.filterwarnings("ignore")
model_dir = sys.argv[1] if len(sys.argv) > 1 else "fixtures/hub/models/reward-studio/tiny-qwen3"
u = lambda c: {"role": "user", "content": c}
a = lambda c: {"role": "assistant", "content": c}
CASES = {
    "identical chosen/rejected": {"chosen": [u("Hi"), a("x")], "rejected": [u("Hi"), a("x")]},
    "last turn not from the assistant": {"chosen": [u("Hi"), a("x"), u("More?")], "rejected": [u("Hi"), a("y")]},
    "empty content": {"chosen": [u("Hi"), a("")], "rejected": [u("Hi"), a("y")]},
    "first difference not an assistant turn": {"chosen": [u("Hi"), a("x")], "rejected": [u("Hey"), a("y")]},
}
PROMPTED = {"prompt repeated in both completions": {"prompt": [u("Hi")], "chosen": [u("Hi"), a("x")], "rejected": [u("Hi"), a("y")]},
            "completion starting with a user turn": {"prompt": [u("Hi")], "chosen": [a("x")], "rejected": [u("Other"), a("y")]}}
tok = AutoTokenizer.from_pretrained(model_dir)
for group in (CASES, PROMPTED):
    for name, row in group.items():
        ds = Dataset.from_list([row, row])
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1)
        with tempfile.TemporaryDirectory() as out:
            args = RewardConfig(output_dir=out, max_steps=2, per_device_train_batch_size=2, report_to=[], logging_steps=1, save_strategy="no", use_cpu=True)
            try:
                tr = RewardTrainer(model=model, args=args, train_dataset=ds, processing_class=tok)
                lens = (len(tr.train_dataset[0]["chosen_ids"]), len(tr.train_dataset[0]["rejected_ids"]))
                tr.train()
                loss = [h["loss"] for h in tr.state.log_history if "loss" in h]
                print(f"{name}: trains; token counts {lens}; losses {loss}")
            except Exception as e:  # noqa: BLE001
                print(f"{name}: REFUSED: {type(e).__name__}: {str(e)[:200]}")
