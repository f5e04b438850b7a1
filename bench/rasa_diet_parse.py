"""Run by the Rasa venv's Python (3.10) from ``bench/nlu.py``: load a trained Rasa NLU model and parse texts.

usage: python rasa_diet_parse.py MODEL.tar.gz IN.jsonl OUT.jsonl   (IN: {"id", "text"} per line)
Writes {"id", "intent", "confidence", "ranking": [[name, confidence], ...]} per line.
"""

import asyncio
import json
import sys


async def main(model: str, src: str, dst: str) -> None:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            rec = json.loads(line)
            r = await agent.parse_message(rec["text"])
            ranking = [[x["name"], float(x["confidence"])] for x in r.get("intent_ranking") or []]
            out.write(json.dumps({"id": rec["id"], "intent": (r.get("intent") or {}).get("name"),
                                  "confidence": float((r.get("intent") or {}).get("confidence") or 0.0),
                                  "ranking": ranking}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
