"""Light record classes for the standard-library-only core (``clock``, ``rules``).

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``): 20–30 ms
at every start, a quarter of the 120 ms budget of ``opsweek mine``. :func:`record` gives
the part of ``@dataclass`` the core uses -- fields from the class annotations, set by
position or keyword, plain defaults and ``field(default_factory=...)``, value equality,
a readable repr, ``frozen=True`` (immutable and hashable) -- without that import.
"""

from __future__ import annotations

_MISSING = object()


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make):
        self.make = make


def field(*, default_factory):
    """A default made fresh for each record (``field(default_factory=list)``)."""
    return _Factory(default_factory)


def record(cls=None, *, frozen: bool = False):
    """Class decorator: ``@record`` or ``@record(frozen=True)``, like ``@dataclass``."""

    def wrap(cls):
        names = tuple(cls.__dict__.get("__annotations__", {}))
        defaults = {}
        for name in names:
            if name in cls.__dict__:
                defaults[name] = cls.__dict__[name]
                if isinstance(defaults[name], _Factory):
                    delattr(cls, name)
        title = cls.__name__

        def __init__(self, *args, **kwargs):
            if len(args) > len(names):
                raise TypeError(f"{title}() takes {len(names)} arguments but {len(args)} were given")
            values = dict(zip(names, args))
            for key, value in kwargs.items():
                if key not in names:
                    raise TypeError(f"{title}() got an unexpected keyword argument {key!r}")
                if key in values:
                    raise TypeError(f"{title}() got multiple values for argument {key!r}")
                values[key] = value
            for name in names:
                if name not in values:
                    default = defaults.get(name, _MISSING)
                    if default is _MISSING:
                        raise TypeError(f"{title}() missing required argument {name!r}")
                    values[name] = default.make() if isinstance(default, _Factory) else default
                object.__setattr__(self, name, values[name])

        def __repr__(self):
            return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"

        def __eq__(self, other):
            if type(other) is not type(self):
                return NotImplemented
            return all(getattr(self, n) == getattr(other, n) for n in names)

        cls.__init__ = __init__
        cls.__repr__ = __repr__
        cls.__eq__ = __eq__
        cls.__match_args__ = names
        cls._fields = names
        if frozen:
            def __setattr__(self, name, value):
                raise AttributeError(f"cannot assign to field {name!r} of a frozen {title}")

            def __delattr__(self, name):
                raise AttributeError(f"cannot delete field {name!r} of a frozen {title}")

            cls.__setattr__ = __setattr__
            cls.__delattr__ = __delattr__
            cls.__hash__ = lambda self: hash(tuple(getattr(self, n) for n in names))
        else:
            cls.__hash__ = None
        return cls

    return wrap if cls is None else wrap(cls)
