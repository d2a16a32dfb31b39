"""The few X11 calls Qt does not offer, through ctypes on libX11 (no new dependency).

- Reserving screen space: `_NET_WM_WINDOW_TYPE_DOCK` and `_NET_WM_STRUT(_PARTIAL)` on a window,
  as panels and docks do (EWMH); the window manager then shrinks `_NET_WORKAREA` and keeps
  maximised windows off the reserved strip.
- A global shortcut: `XGrabKey` on the root window of a separate X connection whose socket the
  caller watches (e.g. with a QSocketNotifier) and drains with `pending_keys()`; no polling.

Qt-free. Every call happens on the thread that owns the `X11` object (the UI thread). When
libX11 or an X display is missing, `X11.open()` returns None and callers fall back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from dataclasses import dataclass

log = logging.getLogger(__name__)

# X11 constants (X.h)
KEY_PRESS = 2
GRAB_MODE_ASYNC = 1
PROP_MODE_REPLACE = 0
BAD_ACCESS = 10
XA_ATOM = 4
XA_CARDINAL = 6
SHIFT, LOCK, CONTROL, MOD1, MOD2, MOD4 = 1, 2, 4, 8, 16, 64
MODIFIER_MASK = SHIFT | CONTROL | MOD1 | MOD4  # the ones a shortcut is made of
# NumLock (usually Mod2) and CapsLock must not stop the shortcut: grab with each combination
IGNORED_COMBINATIONS = (0, LOCK, MOD2, LOCK | MOD2)
MODIFIER_NAMES = {"ctrl": CONTROL, "shift": SHIFT, "alt": MOD1, "meta": MOD4, "super": MOD4}


class XKeyEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("root", ctypes.c_ulong),
        ("subwindow", ctypes.c_ulong),
        ("time", ctypes.c_ulong),
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("x_root", ctypes.c_int),
        ("y_root", ctypes.c_int),
        ("state", ctypes.c_uint),
        ("keycode", ctypes.c_uint),
        ("same_screen", ctypes.c_int),
    ]


class XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xkey", XKeyEvent), ("pad", ctypes.c_long * 24)]


class XErrorEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("resourceid", ctypes.c_ulong),
        ("serial", ctypes.c_ulong),
        ("error_code", ctypes.c_ubyte),
        ("request_code", ctypes.c_ubyte),
        ("minor_code", ctypes.c_ubyte),
    ]


ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(XErrorEvent))


@dataclass(frozen=True)
class Shortcut:
    """A key combination as X sees it: a keysym name ("c", "F9") and a modifier mask."""

    text: str  # as the user wrote it, e.g. "Ctrl+Alt+C"
    key: str
    modifiers: int


class ShortcutError(ValueError):
    """A shortcut that cannot be grabbed (unknown key, or not a combination)."""


def parse_shortcut(text: str) -> Shortcut:
    """ "Ctrl+Alt+C" (Qt's portable text) -> Shortcut("c", CONTROL | MOD1). A global shortcut
    needs Ctrl, Alt or Meta: a bare key or Shift+key would take a key away from every app."""
    parts = [p.strip() for p in text.replace(" ", "").split("+")]
    if text.endswith("++"):  # "Ctrl++": the key is "+"
        parts = [*parts[:-2], "plus"]
    if not parts or not parts[-1]:
        raise ShortcutError(f"'{text}' names no key")
    *mods, key = parts
    mask = 0
    for mod in mods:
        bit = MODIFIER_NAMES.get(mod.lower())
        if bit is None:
            raise ShortcutError(f"'{mod}' in '{text}' is not Ctrl, Alt, Shift or Meta")
        mask |= bit
    if not mask & (CONTROL | MOD1 | MOD4):
        raise ShortcutError(f"'{text}' needs Ctrl, Alt or Meta so that it does not take a key away")
    if len(key) == 1 and key.isalpha():
        key = key.lower()
    return Shortcut(text=text, key=key, modifiers=mask)


def _load_xlib() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    vp, ul, c_int, c_uint = ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_uint
    sigs: dict[str, tuple[object, list[object]]] = {
        "XOpenDisplay": (vp, [ctypes.c_char_p]),
        "XCloseDisplay": (c_int, [vp]),
        "XDefaultRootWindow": (ul, [vp]),
        "XConnectionNumber": (c_int, [vp]),
        "XInternAtom": (ul, [vp, ctypes.c_char_p, c_int]),
        "XChangeProperty": (c_int, [vp, ul, ul, ul, c_int, c_int, vp, c_int]),
        "XDeleteProperty": (c_int, [vp, ul, ul]),
        "XGetWindowProperty": (
            c_int,
            [
                vp,
                ul,
                ul,
                ctypes.c_long,
                ctypes.c_long,
                c_int,
                ul,
                ctypes.POINTER(ul),
                ctypes.POINTER(c_int),
                ctypes.POINTER(ul),
                ctypes.POINTER(ul),
                ctypes.POINTER(vp),
            ],
        ),
        "XFree": (c_int, [vp]),
        "XFlush": (c_int, [vp]),
        "XSync": (c_int, [vp, c_int]),
        "XPending": (c_int, [vp]),
        "XNextEvent": (c_int, [vp, ctypes.POINTER(XEvent)]),
        "XStringToKeysym": (ul, [ctypes.c_char_p]),
        "XKeysymToKeycode": (ctypes.c_ubyte, [vp, ul]),
        "XGrabKey": (c_int, [vp, c_int, c_uint, ul, c_int, c_int, c_int]),
        "XUngrabKey": (c_int, [vp, c_int, c_uint, ul]),
        "XSetErrorHandler": (vp, [vp]),
    }
    for fname, (restype, argtypes) in sigs.items():
        fn = getattr(lib, fname)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


class X11:
    """One connection to the X server (its own, not Qt's)."""

    def __init__(self, lib: ctypes.CDLL, display: int) -> None:
        self._lib = lib
        self._dpy = ctypes.c_void_p(display)
        self.root = int(lib.XDefaultRootWindow(self._dpy))
        self._atoms: dict[str, int] = {}
        self._grabs: dict[int, tuple[int, int]] = {}  # id -> (keycode, modifiers)
        self._next_id = 1

    @classmethod
    def open(cls, display_name: str | None = None) -> X11 | None:
        """A connection, or None when there is no X11 (Wayland-only, Windows, no libX11)."""
        name = display_name or os.environ.get("DISPLAY")
        if not name:
            return None
        lib = _load_xlib()
        if lib is None:
            return None
        dpy = lib.XOpenDisplay(name.encode())
        if not dpy:
            log.info("cannot open X display %s", name)
            return None
        return cls(lib, dpy)

    def close(self) -> None:
        if self._dpy:
            for grab_id in list(self._grabs):
                self.ungrab(grab_id)
            self._lib.XCloseDisplay(self._dpy)
            self._dpy = ctypes.c_void_p(0)

    def fileno(self) -> int:
        """The connection's socket: readable when the server sent something."""
        return int(self._lib.XConnectionNumber(self._dpy))

    def atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = int(self._lib.XInternAtom(self._dpy, name.encode(), 0))
        return self._atoms[name]

    # ------------------------------------------------------------------ properties
    def set_cardinals(self, window: int, name: str, values: list[int]) -> None:
        data = (ctypes.c_long * len(values))(*values)  # format 32 is C long in Xlib
        self._lib.XChangeProperty(
            self._dpy, window, self.atom(name), XA_CARDINAL, 32, PROP_MODE_REPLACE,
            ctypes.cast(data, ctypes.c_void_p), len(values),
        )  # fmt: skip

    def set_atoms(self, window: int, name: str, values: list[str]) -> None:
        data = (ctypes.c_long * len(values))(*(self.atom(v) for v in values))
        self._lib.XChangeProperty(
            self._dpy, window, self.atom(name), XA_ATOM, 32, PROP_MODE_REPLACE,
            ctypes.cast(data, ctypes.c_void_p), len(values),
        )  # fmt: skip

    def set_atom_ids(self, window: int, name: str, ids: list[int]) -> None:
        """Put back an atom list read with `get_cardinals` (e.g. a window's former type)."""
        data = (ctypes.c_long * len(ids))(*ids)
        self._lib.XChangeProperty(
            self._dpy, window, self.atom(name), XA_ATOM, 32, PROP_MODE_REPLACE,
            ctypes.cast(data, ctypes.c_void_p), len(ids),
        )  # fmt: skip

    def delete_property(self, window: int, name: str) -> None:
        self._lib.XDeleteProperty(self._dpy, window, self.atom(name))

    def get_cardinals(self, window: int, name: str) -> list[int]:
        """A format-32 property's values ([] when unset), e.g. the root's `_NET_WORKAREA`."""
        actual_type, actual_format = ctypes.c_ulong(), ctypes.c_int()
        nitems, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
        status = self._lib.XGetWindowProperty(
            self._dpy, window, self.atom(name), 0, 1024, 0, 0,
            ctypes.byref(actual_type), ctypes.byref(actual_format), ctypes.byref(nitems),
            ctypes.byref(after), ctypes.byref(data),
        )  # fmt: skip
        if status != 0 or not data.value:
            return []
        try:
            if actual_format.value != 32:
                return []
            values = ctypes.cast(data, ctypes.POINTER(ctypes.c_long))
            return [int(values[i]) for i in range(nitems.value)]
        finally:
            self._lib.XFree(data)

    def flush(self) -> None:
        self._lib.XFlush(self._dpy)

    def sync(self) -> None:
        self._lib.XSync(self._dpy, 0)

    # ------------------------------------------------------------------ panels
    def reserve_edge(
        self, window: int, edge: str, thickness: int, start: int, end: int, *, dock: bool = True
    ) -> None:
        """Make `window` a panel that reserves `thickness` pixels at the screen's `edge` ("top"
        or "bottom") for x in [start, end] (root coordinates; `thickness` counted from the
        root window's edge, as EWMH says)."""
        partial = [0] * 12  # left, right, top, bottom, then start/end pairs per edge
        if edge == "top":
            partial[2], partial[8], partial[9] = thickness, start, end
        elif edge == "bottom":
            partial[3], partial[10], partial[11] = thickness, start, end
        else:
            raise ValueError(f"edge must be 'top' or 'bottom', not {edge!r}")
        if dock:
            self.set_atoms(window, "_NET_WM_WINDOW_TYPE", ["_NET_WM_WINDOW_TYPE_DOCK"])
        self.set_cardinals(window, "_NET_WM_STRUT_PARTIAL", partial)
        self.set_cardinals(window, "_NET_WM_STRUT", partial[:4])
        self.flush()

    def release_edge(self, window: int) -> None:
        self.delete_property(window, "_NET_WM_STRUT_PARTIAL")
        self.delete_property(window, "_NET_WM_STRUT")
        self.flush()

    def workarea(self) -> tuple[int, int, int, int] | None:
        """The window manager's work area of the current desktop (x, y, width, height)."""
        values = self.get_cardinals(self.root, "_NET_WORKAREA")
        if len(values) < 4:
            return None
        desktop = self.get_cardinals(self.root, "_NET_CURRENT_DESKTOP")
        i = desktop[0] if desktop and len(values) >= 4 * (desktop[0] + 1) else 0
        x, y, w, h = values[4 * i : 4 * i + 4]
        return x, y, w, h

    # ------------------------------------------------------------------ global keys
    def grab(self, shortcut: Shortcut) -> int:
        """Grab the shortcut on the root window; returns an id for `ungrab`. Raises
        ShortcutError for an unknown key and PermissionError when another client holds it."""
        keysym = self._lib.XStringToKeysym(shortcut.key.encode())
        if not keysym and len(shortcut.key) > 1:
            keysym = self._lib.XStringToKeysym(shortcut.key.lower().encode())
        keycode = int(self._lib.XKeysymToKeycode(self._dpy, keysym)) if keysym else 0
        if not keycode:
            raise ShortcutError(f"'{shortcut.text}': this keyboard has no key '{shortcut.key}'")
        errors: list[int] = []

        def on_error(_dpy: int, event: ctypes._Pointer[XErrorEvent]) -> int:
            errors.append(int(event.contents.error_code))
            return 0

        handler = ERROR_HANDLER(on_error)
        self.sync()  # earlier errors are not ours
        previous = self._lib.XSetErrorHandler(ctypes.cast(handler, ctypes.c_void_p))
        try:
            for extra in IGNORED_COMBINATIONS:
                self._lib.XGrabKey(
                    self._dpy, keycode, shortcut.modifiers | extra, self.root, 0,
                    GRAB_MODE_ASYNC, GRAB_MODE_ASYNC,
                )  # fmt: skip
            self.sync()
        finally:
            self._lib.XSetErrorHandler(previous)
        grab_id = self._next_id
        self._next_id += 1
        self._grabs[grab_id] = (keycode, shortcut.modifiers)
        if errors:
            self.ungrab(grab_id)
            if BAD_ACCESS in errors:
                raise PermissionError(f"{shortcut.text} is already taken by another application")
            raise ShortcutError(f"'{shortcut.text}' could not be grabbed (X error {errors[0]})")
        return grab_id

    def ungrab(self, grab_id: int) -> None:
        keycode, modifiers = self._grabs.pop(grab_id, (0, 0))
        if not keycode:
            return
        for extra in IGNORED_COMBINATIONS:
            self._lib.XUngrabKey(self._dpy, keycode, modifiers | extra, self.root)
        self.sync()

    def pending_keys(self) -> list[int]:
        """Read everything the server sent; the ids of the grabs whose key was pressed."""
        hits: list[int] = []
        event = XEvent()
        while self._lib.XPending(self._dpy):
            self._lib.XNextEvent(self._dpy, ctypes.byref(event))
            if event.type != KEY_PRESS:
                continue
            key = event.xkey
            for grab_id, (keycode, modifiers) in self._grabs.items():
                if key.keycode == keycode and key.state & MODIFIER_MASK == modifiers:
                    hits.append(grab_id)
        return hits
