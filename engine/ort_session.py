"""One way to open an ONNX Runtime session, with the thread policy written once.

Every model Dragoman runs on ONNX Runtime (Silero VAD, the voice encoder, Piper voices, the
M2M100/NLLB translator) opens its session here, so each engine has an explicit budget:
`threads` intra-op threads, one inter-op thread, sequential execution, and no spin-waiting.
By default ONNX Runtime's idle threads spin for a while after every run; a VAD called every
32 ms then keeps a core busy at real-time pace, which on a 2-core laptop starves the
recogniser. Spinning is therefore off unless a caller asks for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import ModelError

if TYPE_CHECKING:
    import onnxruntime


def session_options(
    threads: int = 1, *, spinning: bool = False, memory_arena: bool = True
) -> onnxruntime.SessionOptions:
    """SessionOptions with the thread policy above (see the module doc)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_cpu_mem_arena = memory_arena
    options.log_severity_level = 3  # errors only: warnings about unused initialisers are noise
    spin = "1" if spinning else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", spin)
    options.add_session_config_entry("session.inter_op.allow_spinning", spin)
    return options


def create_session(
    path: str | Path,
    *,
    threads: int = 1,
    what: str = "model",
    spinning: bool = False,
    memory_arena: bool = True,
) -> onnxruntime.InferenceSession:
    """An InferenceSession on the CPU. Raises ModelError naming `what` and the file when the
    model cannot be loaded (missing, truncated, not ONNX)."""
    import onnxruntime as ort

    options = session_options(threads, spinning=spinning, memory_arena=memory_arena)
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(f"Cannot load the {what} {path}: {exc}") from exc
