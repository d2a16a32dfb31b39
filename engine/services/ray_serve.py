"""`dragoman serve ray`: the reference services as Ray Serve deployments, for many rooms at once.

Each stage (translation, speech, speaker embeddings) is one Serve application with its own
replica count and resources per replica, behind the Serve HTTP proxy under a route prefix:

    http://HOST:PORT/nmt/v1/translate     (and every other route of the translation service)
    http://HOST:PORT/tts/tts, /tts/synthesize, ...
    http://HOST:PORT/speaker/extract_embedding
    http://HOST:PORT/<stage>/health

so a client keeps its code and points its service URL at `http://HOST:PORT/<stage>`. A replica
runs exactly the FastAPI app of the single-process service (its `create_app`), so the routes,
limits and token rules are the same; the app sees the path without the prefix. A replica loads
its model once, when it starts, and runs ONNX Runtime with an explicit thread budget: as many
intra-op threads as the CPUs it reserves (at least one), never every core.

Ray is an optional dependency (the `cluster` extra); this module imports it only when used.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import math
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from engine.config import SpeechOptions, TranslationBackend, TranslationOptions
from engine.errors import ConfigError, DragomanError
from engine.services.net import bind, is_loopback

log = logging.getLogger(__name__)

STAGES = ("nmt", "tts", "speaker")
ROUTE_PREFIXES = {"nmt": "/nmt", "tts": "/tts", "speaker": "/speaker"}
APP_NAMES = {stage: f"dragoman-{stage}" for stage in STAGES}
DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"
# CPUs reserved per replica unless --cpus says otherwise: the three fit on a 2-core laptop.
DEFAULT_CPUS = {"nmt": 1.0, "tts": 0.5, "speaker": 0.5}
RAY_PIN = "ray[serve]==2.60.0"
# Requests a replica accepts at once (its app still runs one model call at a time); the rest
# wait in Serve's queue, from which the least busy replica takes the next one.
MAX_ONGOING_PER_REPLICA = 2
# Requests waiting per replica before the proxy answers 503, as many as the single-process
# service lets wait (its apps' `max_waiting`): in a live meeting a late answer is a useless one,
# and a 503 lets the client fall back at once.
MAX_WAITING_PER_REPLICA = {"nmt": 16, "tts": 4, "speaker": 8}


class RayUnavailableError(DragomanError):
    """Ray is not installed, or a Ray instance cannot be started or reached."""


@dataclass(frozen=True)
class StagePlan:
    """One stage's Serve deployment: how many replicas and what each one reserves.

    cpus: Ray CPUs reserved per replica (fractions allowed); the replica's ONNX Runtime
        sessions get ceil(cpus) intra-op threads (at least 1).
    gpus: Ray GPUs reserved per replica (places the replica on a machine with a GPU).
    """

    stage: str
    replicas: int = 1
    cpus: float = 1.0
    gpus: float = 0.0

    @property
    def threads(self) -> int:
        return max(1, math.ceil(self.cpus))


@dataclass(frozen=True)
class ReplicaSpec:
    """What a replica needs to build its stage's app (sent to the replica, so plain data).

    nmt_model / voice: as given to `dragoman serve nmt --model` / `serve tts --voice`; each
    replica resolves it on its own machine. token: the services' bearer token (None = none).
    """

    stage: str
    threads: int = 1
    translator: str = "m2m100"
    nmt_model: str | None = None
    voice: str | None = None
    token: str | None = None
    loopback: bool = True


@dataclass(frozen=True)
class RayServeOptions:
    """Everything `dragoman serve ray` deploys; `plans` only lists stages with replicas."""

    plans: tuple[StagePlan, ...]
    translator: str = "m2m100"
    nmt_model: str | None = None
    voice: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    address: str | None = None  # None: start a Ray instance in this process
    num_cpus: float | None = None  # CPUs of a Ray instance started here (None: all cores)
    object_store_mb: int | None = None  # its object store (None: Ray's default)
    dashboard: bool = False
    start_timeout_s: float = 600.0  # every replica must have loaded its model by then
    env: Mapping[str, str] = field(default_factory=dict)  # extra variables for replicas

    def spec(self, plan: StagePlan) -> ReplicaSpec:
        return ReplicaSpec(
            stage=plan.stage,
            threads=plan.threads,
            translator=self.translator,
            nmt_model=self.nmt_model,
            voice=self.voice,
            token=self.token,
            loopback=is_loopback(self.host),
        )


# --- the app a replica serves -------------------------------------------------------------------


def build_stage_app(spec: ReplicaSpec) -> Any:
    """The single-process service's FastAPI app for `spec.stage`, model loaded and warmed up,
    with the same token / Host / body-size rules `dragoman serve STAGE` would give it.

    Runs inside each replica (and in-process in tests): the same code path as `dragoman serve`.
    """
    from engine.services.web import ServiceGuard

    def guard(max_request_bytes: int) -> ServiceGuard:
        return ServiceGuard(
            token=spec.token,
            loopback_only_hosts=spec.loopback,
            max_request_bytes=max_request_bytes,
        )

    if spec.stage == "nmt":
        from engine.services import nmt
        from engine.translate import DEFAULT_MODELS, resolve_model_dir

        backend: TranslationBackend = "nllb" if spec.translator == "nllb" else "m2m100"
        options = TranslationOptions(
            backend=backend, model=spec.nmt_model, cpu_threads=spec.threads
        )
        model_dir = resolve_model_dir(spec.nmt_model or DEFAULT_MODELS[spec.translator], False)
        return nmt.create_app(options, Path(model_dir), guard=guard(nmt.DEFAULT_MAX_REQUEST_BYTES))
    if spec.stage == "tts":
        from engine.errors import ModelError
        from engine.tts import service
        from engine.tts.piper_local import PiperSynthesizer, load_voice
        from engine.tts.voices import find_voice, split_ref

        speech = SpeechOptions(voice=spec.voice, cpu_threads=spec.threads)
        if spec.voice:  # a bad voice fails the replica now, not on the first request
            load_voice(find_voice(split_ref(spec.voice)[0]), speech.cpu_threads)
        else:
            try:
                PiperSynthesizer(speech).warm_up("en")
            except ModelError as exc:
                log.warning("no English voice to preload (%s); voices load on first use", exc)
        return service.create_app(speech, guard=guard(service.DEFAULT_MAX_REQUEST_BYTES))
    if spec.stage == "speaker":
        from engine.speakers import service as speaker_service
        from engine.speakers.encoder import load_voice_encoder

        return speaker_service.create_app(
            load_voice_encoder(cpu_threads=spec.threads),
            guard=guard(speaker_service.DEFAULT_MAX_REQUEST_BYTES),
        )
    raise ConfigError(f"Unknown stage '{spec.stage}' (one of {', '.join(STAGES)}).")


def without_route_prefix(app: Any) -> Any:
    """An ASGI app passing `app` the scope the single-process service would get.

    Serve hands a replica the full path (`/nmt/v1/translate`) with the route prefix as
    root_path; the service's own rules (open paths, body-key paths) and routes expect the path
    below the prefix and no root_path, so the replica strips the prefix first.
    """

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        root = scope.get("root_path", "")
        if scope.get("type") in ("http", "websocket") and root:
            path = scope.get("path", "")
            if path == root or path.startswith(root + "/"):
                path = path[len(root) :] or "/"
            scope = dict(scope, path=path, root_path="")
            raw = scope.get("raw_path")
            prefix = root.encode("latin-1")
            if isinstance(raw, bytes) and (raw == prefix or raw.startswith(prefix + b"/")):
                scope["raw_path"] = raw[len(prefix) :] or b"/"
        await app(scope, receive, send)

    return asgi


def _replica_class() -> Any:
    """The Serve ingress class of a stage replica (defined on first use: Ray is optional)."""
    from ray import serve

    @serve.ingress()
    class StageReplica:
        """One replica of a stage: builds the stage's app once, when the replica starts."""

        def __init__(self, spec: ReplicaSpec) -> None:
            self.spec = spec

        def __serve_build_asgi_app__(self) -> Any:  # noqa: N807 - Serve's hook name
            return without_route_prefix(build_stage_app(self.spec))

    return StageReplica


ROOT_APP = "dragoman"  # the proxy root: GET /health over every stage


@dataclass(frozen=True)
class RootSpec:
    """What the root replica needs: the stages deployed and the access rules."""

    stages: tuple[str, ...]
    token: str | None = None
    loopback: bool = True


def stage_health(stage: str, overview: Any) -> dict[str, Any]:
    """One stage's entry in the root /health: its URL prefix, state and running replicas."""
    if overview is None:
        return {"url": ROUTE_PREFIXES[stage], "status": "MISSING", "replicas": 0}
    running = 0
    for deployment in overview.deployments.values():
        running += sum(n for state, n in deployment.replica_states.items() if state == "RUNNING")
    status = getattr(overview.status, "value", overview.status)  # a str Enum
    return {"url": ROUTE_PREFIXES[stage], "status": str(status), "replicas": running}


def build_root_app(spec: RootSpec) -> Any:
    """The app at the proxy root: `GET /health` says which stages run, where and how many
    replicas each has (200 when all are RUNNING, else 503). Same guard as the stages."""
    from fastapi.responses import JSONResponse

    from engine.services.web import ServiceGuard, new_app

    guard = ServiceGuard(token=spec.token, loopback_only_hosts=spec.loopback)
    app = new_app(
        "Dragoman services on Ray Serve",
        "Each stage is under its own prefix: "
        + ", ".join(f"{ROUTE_PREFIXES[s]} ({s})" for s in spec.stages)
        + ". GET /health: the state of every stage.",
        guard,
    )

    @app.get("/health")
    def health() -> Any:
        from ray import serve

        applications = serve.status().applications
        stages = {s: stage_health(s, applications.get(APP_NAMES[s])) for s in spec.stages}
        ok = all(entry["status"] == "RUNNING" for entry in stages.values())
        return JSONResponse(
            status_code=200 if ok else 503,
            content={"status": "ok" if ok else "degraded", "stages": stages},
        )

    return app


def _root_class() -> Any:
    from ray import serve

    @serve.ingress()
    class RootReplica:
        """The proxy root's replica: no model, no CPU reserved."""

        def __init__(self, spec: RootSpec) -> None:
            self.spec = spec

        def __serve_build_asgi_app__(self) -> Any:  # noqa: N807 - Serve's hook name
            return without_route_prefix(build_root_app(self.spec))

    return RootReplica


# --- parsing ------------------------------------------------------------------------------------


def parse_stage_values(text: str, flag: str, *, integer: bool) -> dict[str, float]:
    """`nmt=2,tts=1` -> {"nmt": 2, "tts": 1}; ConfigError naming `flag` on anything else."""
    values: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        stage, sep, raw = part.partition("=")
        stage = stage.strip()
        if not sep or stage not in STAGES:
            raise ConfigError(
                f"{flag} takes STAGE=N pairs separated by commas, STAGE one of "
                f"{', '.join(STAGES)} (e.g. nmt=2,tts=1), not '{part}'."
            )
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise ConfigError(f"{flag}: {stage}={raw!r} is not {kind}.") from None
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{flag}: {stage} must be 0 or more, not {raw.strip()}.")
        values[stage] = value
    return values


def make_plans(replicas: str, cpus: str, gpus: str) -> tuple[StagePlan, ...]:
    """Stage plans from the three flags (a stage left out: 1 replica, DEFAULT_CPUS, no GPU)."""
    counts = parse_stage_values(replicas, "--replicas", integer=True)
    cpu = parse_stage_values(cpus, "--cpus", integer=False)
    gpu = parse_stage_values(gpus, "--gpus", integer=False)
    plans = []
    for stage in STAGES:
        plan = StagePlan(
            stage,
            int(counts.get(stage, 1)),
            cpu.get(stage, DEFAULT_CPUS[stage]),
            gpu.get(stage, 0.0),
        )
        if plan.replicas and plan.cpus <= 0 and plan.gpus <= 0:
            raise ConfigError(f"--cpus: {stage} replicas must reserve some CPU (e.g. 0.5).")
        if plan.replicas:
            plans.append(plan)
    if not plans:
        raise ConfigError("--replicas leaves no stage to serve: give at least one stage 1.")
    return tuple(plans)


def free_port(host: str) -> int:
    """A port free on `host` right now (for --port 0: Serve's proxy needs a number)."""
    sock = bind(host, 0)
    try:
        return int(sock.getsockname()[1])
    finally:
        sock.close()


def check_port_free(host: str, port: int) -> None:
    """ConfigError now when the proxy could not listen there (Serve would retry forever)."""
    bind(host, port).close()


def check_local_inputs(options: RayServeOptions) -> None:
    """Fail before starting Ray on what this machine can check: the model and the voice."""
    stages = {p.stage for p in options.plans}
    if "nmt" in stages:
        from engine.translate import DEFAULT_MODELS, resolve_model_dir

        if options.translator not in DEFAULT_MODELS:
            raise ConfigError(f"Unknown translator '{options.translator}'.")
        resolve_model_dir(options.nmt_model or DEFAULT_MODELS[options.translator], False)
    if "tts" in stages and options.voice:
        from engine.tts.voices import find_voice, split_ref

        find_voice(split_ref(options.voice)[0])


# --- deploying ----------------------------------------------------------------------------------


@dataclass
class RayDeployment:
    """A running deployment: the proxy's URL and what `stop` must undo."""

    url: str
    apps: tuple[str, ...]
    started_ray: bool
    stopped: bool = False

    def stage_url(self, stage: str) -> str:
        return self.url + ROUTE_PREFIXES[stage]

    def stop(self) -> None:
        """Delete our applications; shut Serve and Ray down if this process started them."""
        if self.stopped:
            return
        self.stopped = True
        import ray
        from ray import serve

        try:
            if self.started_ray:
                serve.shutdown()
            else:
                for app in self.apps:
                    serve.delete(app)
        except Exception as exc:  # Ray may already be going down (Ctrl-C reached it too)
            log.warning("Serve did not shut down cleanly: %s", exc)
        finally:
            ray.shutdown()


def _import_ray() -> tuple[Any, Any]:
    try:
        import ray
        from ray import serve
    except ImportError as exc:
        raise RayUnavailableError(
            f'`dragoman serve ray` needs Ray Serve: run `pip install "{RAY_PIN}"` '
            "(or install Dragoman with the `cluster` extra)."
        ) from exc
    return ray, serve


def _start_ray(options: RayServeOptions) -> bool:
    """Connect to (or start) Ray; True when this process started the instance."""
    ray, _ = _import_ray()
    kwargs: dict[str, Any] = {
        "namespace": "dragoman",
        "log_to_driver": False,
        "configure_logging": False,
    }
    if options.address:
        kwargs["address"] = options.address
    else:
        kwargs.update(
            num_cpus=options.num_cpus if options.num_cpus is not None else os.cpu_count() or 1,
            include_dashboard=options.dashboard,
        )
        if options.object_store_mb is not None:
            kwargs["object_store_memory"] = options.object_store_mb * 1024 * 1024
    try:
        ray.init(**kwargs)
    except Exception as exc:
        where = f"at {options.address}" if options.address else "on this machine"
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise RayUnavailableError(f"Ray cannot start {where}: {message}") from exc
    return not options.address


def _check_resources(options: RayServeOptions) -> None:
    import ray

    total = ray.cluster_resources()
    for kind, key in (("CPU", "cpus"), ("GPU", "gpus")):
        needed = sum(p.replicas * getattr(p, key) for p in options.plans)
        have = float(total.get(kind, 0.0))
        if needed > have + 1e-9:
            raise ConfigError(
                f"The replicas reserve {needed:g} {kind}s but the Ray cluster has {have:g}: "
                f"lower --replicas or --{key}, or add machines (`ray start --address ...`)."
            )


def deploy(options: RayServeOptions) -> RayDeployment:
    """Start or join Ray, start Serve's proxy on host:port and deploy every planned stage.

    Returns once every replica has loaded its model. Raises DragomanError (Ray is stopped
    again when this process started it)."""
    _, serve = _import_ray()
    started = _start_ray(options)
    deployment = RayDeployment(
        url=f"http://{_url_host(options.host)}:{options.port}",
        apps=(*(APP_NAMES[p.stage] for p in options.plans), ROOT_APP),
        started_ray=started,
    )
    try:
        _check_resources(options)
        serve.start(
            http_options={"host": options.host, "port": options.port},
        )
        replica_cls = _replica_class()
        targets = []
        for plan in options.plans:
            # numpy's BLAS and any OpenMP code get the replica's budget too, not every core.
            threads = str(plan.threads)
            plan_env = {**options.env, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
            app = serve.deployment(
                replica_cls,
                name=f"{plan.stage}-replica",
                num_replicas=plan.replicas,
                max_ongoing_requests=MAX_ONGOING_PER_REPLICA,
                max_queued_requests=MAX_WAITING_PER_REPLICA[plan.stage] * plan.replicas,
                ray_actor_options={
                    "num_cpus": plan.cpus,
                    "num_gpus": plan.gpus,
                    "runtime_env": {"env_vars": plan_env},
                },
                health_check_period_s=10,
            ).bind(options.spec(plan))
            targets.append(
                serve.RunTarget(
                    app, name=APP_NAMES[plan.stage], route_prefix=ROUTE_PREFIXES[plan.stage]
                )
            )
        root = RootSpec(
            stages=tuple(p.stage for p in options.plans),
            token=options.token,
            loopback=is_loopback(options.host),
        )
        root_app = serve.deployment(
            _root_class(),
            name="root",
            num_replicas=1,
            ray_actor_options={"num_cpus": 0},
        ).bind(root)
        targets.append(serve.RunTarget(root_app, name=ROOT_APP, route_prefix="/"))
        # All stages start at once (their replicas load models in parallel), then we wait.
        serve.run_many(
            targets,
            wait_for_ingress_deployment_creation=False,
            wait_for_applications_running=False,
        )
        _wait_until_running(options, deployment.apps)
    except BaseException:
        deployment.stop()
        raise
    return deployment


def _wait_until_running(options: RayServeOptions, apps: tuple[str, ...]) -> None:
    """Return once every app is RUNNING; DragomanError when one fails or the time is up."""
    from ray import serve
    from ray.serve.schema import ApplicationStatus

    deadline = time.monotonic() + options.start_timeout_s
    waiting = set(apps)
    while waiting:
        status = serve.status().applications
        for app in sorted(waiting):
            overview = status.get(app)
            if overview is None:
                continue
            stage = app.removeprefix("dragoman-")
            if overview.status == ApplicationStatus.RUNNING:
                waiting.discard(app)
            elif overview.status == ApplicationStatus.DEPLOY_FAILED:
                # The deployment's message carries the replica's traceback; its end says why.
                messages = [d.message for d in overview.deployments.values() if d.message]
                why = _last_line(messages[-1] if messages else overview.message)
                raise DragomanError(f"The {stage} replicas failed to start: {why}")
        if waiting and time.monotonic() > deadline:
            names = ", ".join(sorted(a.removeprefix("dragoman-") for a in waiting))
            raise DragomanError(
                f"The {names} replicas were not ready after {options.start_timeout_s:g} s "
                "(not enough free CPUs or GPUs in the cluster, or slow model loading: see "
                "`ray status` and the replica logs under /tmp/ray/session_latest/logs)."
            )
        if waiting:
            time.sleep(0.25)


def _last_line(exc: BaseException | str) -> str:
    """The readable end of a Ray error (they carry the replica's whole traceback)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error:" in line or "Error(" in line:
            # "engine.errors.ModelError: The model ..." -> the sentence, as the CLI prints it
            return re.sub(r"^engine\.errors\.\w+: ", "", line)
    return lines[-1] if lines else type(exc).__name__


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@contextlib.contextmanager
def running(options: RayServeOptions) -> Iterator[RayDeployment]:
    """deploy() as a context manager: stopped on the way out, whatever happens."""
    deployment = deploy(options)
    try:
        yield deployment
    finally:
        deployment.stop()


# --- the command --------------------------------------------------------------------------------


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add `serve ray` to the `serve` command's subparsers."""
    p = sub.add_parser(
        "ray",
        help="all three services on Ray Serve, with replicas (needs the `cluster` extra)",
        description="Serve translation, speech and speaker embeddings as Ray Serve deployments "
        "behind one HTTP proxy: clients use http://HOST:PORT/nmt, /tts and /speaker as their "
        "service URLs. Starts a Ray instance on this machine, or joins one with --address.",
    )
    p.add_argument(
        "--replicas",
        default="",
        metavar="nmt=N,tts=N,speaker=N",
        help="replicas per stage (default 1 each; 0 leaves a stage out)",
    )
    p.add_argument(
        "--cpus",
        default="",
        metavar="nmt=C,...",
        help="CPUs reserved per replica (default nmt=1,tts=0.5,speaker=0.5); a replica runs "
        "ONNX Runtime with that many threads, rounded up",
    )
    p.add_argument(
        "--gpus", default="", metavar="nmt=G,...", help="GPUs reserved per replica (default 0)"
    )
    p.add_argument("--translator", choices=["m2m100", "nllb"], default="m2m100")
    p.add_argument("--nmt-model", metavar="ID|PATH", help="catalogue id or ONNX export directory")
    p.add_argument("--voice", metavar="ID|PATH", help="voice used when a request names none")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"proxy address (default {DEFAULT_HOST})")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="proxy port (default 8000; 0 = any free)"
    )
    p.add_argument(
        "--token",
        help="bearer token clients must send (default $DRAGOMAN_SERVICE_TOKEN); required unless "
        "the address is loopback",
    )
    p.add_argument(
        "--address",
        metavar="ADDR",
        help="join this Ray cluster (e.g. auto, or HEAD:6379) instead of starting one",
    )
    p.add_argument(
        "--num-cpus",
        type=float,
        help="CPUs of the Ray instance started here (default: all cores)",
    )
    p.add_argument(
        "--object-store-mb", type=int, help="object store of the Ray instance started here"
    )
    p.add_argument(
        "--start-timeout",
        type=float,
        default=600.0,
        metavar="S",
        help="give up when the replicas are not all ready after S seconds (default 600)",
    )
    p.set_defaults(func=cmd_serve_ray)
    return p


def options_from_args(args: argparse.Namespace) -> RayServeOptions:
    from engine.services.web import TOKEN_ENV, check_token

    token = check_token(args.token if args.token is not None else os.environ.get(TOKEN_ENV))
    if not is_loopback(args.host) and token is None:
        raise ConfigError(
            f"Listening on {args.host} (not loopback) needs a token: pass --token or set "
            f"{TOKEN_ENV}, and give clients the same token."
        )
    if args.address is not None and (args.num_cpus is not None or args.object_store_mb):
        raise ConfigError("--num-cpus and --object-store-mb only apply without --address.")
    if args.num_cpus is not None and not args.num_cpus > 0:
        raise ConfigError(f"--num-cpus must be more than 0, not {args.num_cpus:g}.")
    if args.object_store_mb is not None and args.object_store_mb < 80:
        raise ConfigError("--object-store-mb must be at least 80 (Ray's minimum).")
    if not args.start_timeout > 0:
        raise ConfigError(f"--start-timeout must be more than 0, not {args.start_timeout:g}.")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {args.port}.")
    return RayServeOptions(
        plans=make_plans(args.replicas, args.cpus, args.gpus),
        translator=args.translator,
        nmt_model=str(Path(args.nmt_model).resolve())
        if args.nmt_model and Path(args.nmt_model).exists()
        else args.nmt_model,
        voice=args.voice,
        host=args.host,
        port=args.port,
        token=token,
        address=args.address,
        num_cpus=args.num_cpus,
        object_store_mb=args.object_store_mb,
        start_timeout_s=args.start_timeout,
    )


def cmd_serve_ray(args: argparse.Namespace) -> int:
    """Deploy, print the URLs, serve until SIGINT/SIGTERM, take everything down. Returns 0."""
    options = options_from_args(args)
    check_local_inputs(options)
    _import_ray()
    port = options.port or free_port(options.host)
    check_port_free(options.host, port)
    options = dataclasses.replace(options, port=port)
    # Until the replicas are up, Ctrl-C / SIGTERM abort the start (deploy() stops Ray again);
    # after that, they end the serving loop. ray.init installs its own SIGTERM handler, so
    # ours go in once deploy() has returned.
    deployment = deploy(options)
    stop = threading.Event()
    received: list[int] = []

    def on_signal(sig: int, frame: FrameType | None) -> None:
        received.append(sig)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        routes = ", ".join(
            f"{deployment.stage_url(p.stage)} ({p.replicas}x)" for p in options.plans
        )
        print(f"dragoman ray services on {deployment.url}: {routes}; Ctrl-C to stop", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        deployment.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    why = f" ({signal.Signals(received[0]).name})" if received else ""
    print(f"dragoman ray services stopped{why}", file=sys.stderr, flush=True)
    return 0
