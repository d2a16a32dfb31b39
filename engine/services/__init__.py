"""Reference HTTP services (FastAPI) and `dragoman serve`.

- NMT: engine.services.nmt (POST /v1/translate, LibreTranslate's POST /translate; port 5008);
- speech (Piper): engine.tts.service (POST /tts, the seed's POST /synthesize and OpenAI's
  POST /v1/audio/speech; port 5005, or 5004 as `dragoman serve synthesize`);
- speaker embeddings: engine.speakers.service (POST /extract_embedding, port 5003).

`engine.services.cli.register` adds `dragoman serve {nmt,tts,synthesize,speaker}`. Services
bind to 127.0.0.1 unless told otherwise; binding anything else needs a bearer token. The
shared rules (token, Host check, body limits, offline /docs) are in engine.services.web.
"""
