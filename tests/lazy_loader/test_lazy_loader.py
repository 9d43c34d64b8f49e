"""lazy_import / LazyLoader: deferral, one import under a thread race, names, failures."""

from __future__ import annotations

import io
import re
import sys
import textwrap
import threading
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from codomyrmex.performance import LazyLoader, lazy_import
from codomyrmex.performance.lazy_loader import import_timings
from harness.subprocesses import run_python

ModuleFactory = Callable[..., str]


@pytest.fixture
def runs() -> Iterator[list[str]]:
    """A list that every generated module appends its name to when its code executes."""
    probe = types.ModuleType("lazy_probe")
    probe.runs = []  # type: ignore[attr-defined]
    sys.modules["lazy_probe"] = probe
    yield probe.runs  # type: ignore[attr-defined]
    del sys.modules["lazy_probe"]


@pytest.fixture
def make_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: list[str]
) -> Iterator[ModuleFactory]:
    """Write a uniquely named module (or package) into ``tmp_path``; return its name."""
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(source: str = "", *, name: str | None = None, package: bool = False) -> str:
        name = name or f"lazymod_{uuid.uuid4().hex[:10]}"
        path = tmp_path.joinpath(*name.split("."))
        if package:
            path.mkdir(parents=True, exist_ok=True)
            path = path / "__init__.py"
        else:
            path = path.with_suffix(".py")
            path.parent.mkdir(parents=True, exist_ok=True)
        header = "import lazy_probe\nlazy_probe.runs.append(__name__)\n"
        path.write_text(header + textwrap.dedent(source))
        created.append(name)
        return name

    yield make
    for name in list(sys.modules):
        if any(name == c or name.startswith(c + ".") for c in created):
            del sys.modules[name]


def test_nothing_is_imported_until_the_first_attribute_access(
    make_module: ModuleFactory, runs: list[str]
) -> None:
    name = make_module("VALUE = 42\n")
    handle = lazy_import(name)
    assert runs == []
    assert name not in sys.modules
    assert handle.is_loaded() is False
    assert isinstance(handle, LazyLoader)
    assert handle.VALUE == 42
    assert runs == [name]


def test_loaded_handle_is_the_module_itself(make_module: ModuleFactory) -> None:
    name = make_module("VALUE = 1\n")
    handle = lazy_import(name)
    module = handle.load()
    assert module is handle
    assert sys.modules[name] is handle
    assert isinstance(handle, types.ModuleType)
    assert not isinstance(handle, LazyLoader)  # no forwarding hooks left
    assert handle.is_loaded() is True
    assert handle.load() is handle
    assert "is_loaded" not in handle.__dict__  # nothing is added to the module's namespace
    assert "__getattr__" not in handle.__dict__
    assert handle.__spec__ is not None and handle.__spec__.name == name
    assert handle.__loader__ is handle.__spec__.loader
    assert type(handle.__loader__).__name__ == "SourceFileLoader"
    assert handle.__file__ is not None and handle.__file__.endswith(".py")


def test_twenty_threads_first_touching_import_once(
    make_module: ModuleFactory, runs: list[str]
) -> None:
    name = make_module("import time\ntime.sleep(0.05)\nVALUE = 'ready'\n")
    handle = lazy_import(name)
    barrier = threading.Barrier(20)
    seen: list[str] = []
    errors: list[BaseException] = []

    def first_touch() -> None:
        barrier.wait()
        try:
            seen.append(handle.VALUE)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_touch) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert seen == ["ready"] * 20
    assert runs == [name]


def test_lazy_import_returns_one_handle_per_module(make_module: ModuleFactory) -> None:
    name = make_module("VALUE = 1\n")
    first = lazy_import(name)
    assert lazy_import(name) is first
    assert LazyLoader(name) is not first  # the class makes handles of its own
    first.load()
    assert lazy_import(name) is first


def test_dotted_submodule_becomes_the_parents_attribute(
    make_module: ModuleFactory, runs: list[str]
) -> None:
    package = make_module("", package=True)
    make_module("def double(x):\n    return 2 * x\n", name=f"{package}.tools")
    handle = lazy_import(f"{package}.tools")
    assert runs == []
    assert handle.double(21) == 42
    assert runs == [package, f"{package}.tools"]
    assert sys.modules[package].tools is handle
    assert sys.modules[f"{package}.tools"] is handle


def test_package_relative_name_resolves_to_the_same_handle(make_module: ModuleFactory) -> None:
    package = make_module("", package=True)
    make_module("VALUE = 'inner'\n", name=f"{package}.inner")
    relative = lazy_import(".inner", package=package)
    assert relative is lazy_import(f"{package}.inner")
    assert repr(relative) == f"<LazyLoader '{package}.inner' (unloaded)>"
    assert relative.VALUE == "inner"
    nested = lazy_import("..inner", package=f"{package}.sub")
    assert nested is relative


def test_relative_name_without_package_is_rejected_at_once() -> None:
    with pytest.raises(TypeError, match=r"lazy_import\('\.inner'\) is relative"):
        lazy_import(".inner")
    with pytest.raises(ValueError, match="module name"):
        lazy_import("")


@pytest.mark.parametrize("module_name", [".inner", "json"])
@pytest.mark.parametrize("package", [5, b"pkg", ["pkg"]])
def test_package_that_is_not_a_string_is_rejected_at_once(
    module_name: str, package: object
) -> None:
    message = f"package must be a package name or None, not {type(package).__name__}"
    with pytest.raises(TypeError, match=re.escape(message)):
        lazy_import(module_name, package=package)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=re.escape(message)):
        LazyLoader(module_name, package=package)  # type: ignore[arg-type]


def test_stdlib_dotted_submodule_in_a_fresh_interpreter() -> None:
    result = run_python(
        """
        import sys, types
        from codomyrmex.performance import lazy_import
        et = lazy_import("xml.etree.ElementTree")
        assert "xml.etree.ElementTree" not in sys.modules
        assert et.fromstring("<a><b/></a>")[0].tag == "b"
        assert sys.modules["xml.etree.ElementTree"] is et
        assert sys.modules["xml.etree"].ElementTree is et
        assert et.is_loaded() is True
        print("opentelemetry" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"  # deferring imports must not import OTel


def test_repr_and_dir(make_module: ModuleFactory, runs: list[str]) -> None:
    name = make_module("VALUE = 1\ndef helper():\n    pass\n")
    handle = lazy_import(name)
    assert repr(handle) == f"<LazyLoader '{name}' (unloaded)>"
    listing = dir(handle)  # loads, like any other use
    assert {"VALUE", "helper", "__name__"} <= set(listing)
    assert runs == [name]
    assert repr(handle) == f"<LazyLoader '{name}' (loaded)>"


def test_setting_an_attribute_loads_and_sets_it_on_the_module(
    make_module: ModuleFactory,
) -> None:
    name = make_module("VALUE = 1\n")
    handle = lazy_import(name)
    handle.VALUE = 2
    assert sys.modules[name].VALUE == 2
    del handle.VALUE
    assert not hasattr(sys.modules[name], "VALUE")


def test_load_with_arguments_calls_the_modules_own_load(make_module: ModuleFactory) -> None:
    name = make_module("def load(fp):\n    return fp.read().upper()\n")
    handle = lazy_import(name)
    assert handle.load(io.StringIO("abc")) == "ABC"  # ``json.load(fp)`` as a first touch
    assert handle.load(io.StringIO("x")) == "X"  # the module's own ``load`` wins once loaded


def test_missing_module_fails_at_first_use_and_every_use_after(
    make_module: ModuleFactory, tmp_path: Path
) -> None:
    name = f"lazymissing_{uuid.uuid4().hex[:8]}"
    handle = lazy_import(name)  # succeeds: nothing is looked up yet
    with pytest.raises(ModuleNotFoundError, match=f"No module named '{name}'") as first:
        _ = handle.anything
    assert first.value.name == name
    assert repr(handle) == f"<LazyLoader '{name}' (failed: ModuleNotFoundError)>"
    assert handle.is_loaded() is False
    # Not retried: even once the module exists, the handle reports the first failure.
    make_module("VALUE = 1\n", name=name)
    with pytest.raises(ModuleNotFoundError, match=f"No module named '{name}'") as again:
        _ = handle.VALUE
    assert again.value is not first.value
    assert again.value.__cause__ is first.value
    assert again.value.name == name
    with pytest.raises(ModuleNotFoundError):
        handle.load()
    with pytest.raises(ModuleNotFoundError):
        dir(handle)


def test_missing_submodule_names_the_full_module(make_module: ModuleFactory) -> None:
    package = make_module("", package=True)
    handle = lazy_import(f"{package}.absent")
    with pytest.raises(ModuleNotFoundError, match=rf"No module named '{package}\.absent'"):
        _ = handle.VALUE


def test_module_raising_while_importing_is_reported_as_itself(
    make_module: ModuleFactory, runs: list[str]
) -> None:
    name = make_module("raise RuntimeError('broken at import')\n")
    handle = lazy_import(name)
    for _ in range(3):
        with pytest.raises(RuntimeError, match="broken at import"):
            _ = handle.VALUE
    assert runs == [name]  # executed once, then the failure is remembered
    assert name not in sys.modules


def test_already_imported_module_is_mirrored(make_module: ModuleFactory) -> None:
    name = make_module("VALUE = 1\ndef bump():\n    global VALUE\n    VALUE += 1\n")
    __import__(name)
    real = sys.modules[name]
    handle = LazyLoader(name)
    assert handle.load() is real
    assert handle.VALUE == 1
    assert handle is not real
    assert handle.is_loaded() is True
    assert name not in import_timings()  # no import happened through the handle
    real.LATER = "added after loading"
    assert handle.LATER == "added after loading"  # names added later are forwarded
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        _ = handle.nothing


def test_extension_module_is_mirrored_in_a_fresh_interpreter() -> None:
    result = run_python(
        """
        import sys, types
        from codomyrmex.performance import lazy_import
        from codomyrmex.performance.lazy_loader import import_timings
        jp = lazy_import("_codecs_jp")
        assert "_codecs_jp" not in sys.modules
        assert jp.load() is sys.modules["_codecs_jp"]
        assert jp.getcodec("shift_jis") is not None
        assert jp.is_loaded() and jp is not sys.modules["_codecs_jp"]
        print(sorted(import_timings()))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['_codecs_jp']"


def test_import_timings_lists_successful_imports_in_seconds(make_module: ModuleFactory) -> None:
    name = make_module("import time\ntime.sleep(0.02)\n")
    lazy_import(name).load()
    seconds = import_timings()[name]
    assert isinstance(seconds, float)
    assert 0.02 <= seconds < 5
    missing = f"lazymissing_{uuid.uuid4().hex[:8]}"
    with pytest.raises(ImportError):
        lazy_import(missing).load()
    assert missing not in import_timings()


def test_circular_use_during_its_own_import_sees_a_partial_module(
    make_module: ModuleFactory,
) -> None:
    name = make_module(
        """
        from codomyrmex.performance import lazy_import
        FIRST = 1
        self_handle = lazy_import(__name__)
        SEEN = self_handle.FIRST
        try:
            self_handle.LATER
        except AttributeError as exc:
            ERROR = str(exc)
        LATER = 2
        """
    )
    handle = lazy_import(name)
    assert handle.SEEN == 1
    assert "partially initialized module" in handle.ERROR
    assert handle.LATER == 2
