"""Reference HTTP services (FastAPI) and `dragoman serve`.

- NMT: engine.services.nmt (POST /v1/translate, port 5008);
- speech (Piper): engine.tts.service (POST /tts, port 5005);
- speaker embeddings: engine.speakers.service (POST /extract_embedding, port 5003).

`engine.services.cli.register` adds `dragoman serve {nmt,tts,speaker}`. Services bind to
127.0.0.1 unless told otherwise; they have no authentication.
"""
