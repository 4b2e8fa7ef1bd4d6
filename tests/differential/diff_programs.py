"""Seeded random programs over msparam's MindSpore-shaped API, for the differential tester.

``generate(seed)`` gives one program: a list of steps ``[tag, mode, source]`` (see diff_runner.py)
that both msparam and MindSpore 2.10 can run, with the same names bound to either. The same seed
always gives the same program. The tag names the step's kind; the comparison rules in
test_differential.py key on it (forward passes compare within a tolerance, the rest exactly).
"""
import random

FLOAT_DTYPES = ("ms.float16", "ms.float32", "ms.float64")
ALL_DTYPES = ("ms.bool_", "ms.int8", "ms.uint8", "ms.int16", "ms.int32", "ms.int64", "ms.uint16", "ms.uint32",
              "ms.uint64", "ms.float16", "ms.float32", "ms.float64", "ms.complex64")
NP_DTYPES = ("bool", "int8", "uint8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float16",
             "float32", "float64", "complex64", "complex128")
ACTIVATIONS = ("softmin", "softmax", "softmax2d", "logsoftmax", "relu", "relu6", "silu", "tanh",
               "tanhshrink", "hardtanh", "gelu", "fast_gelu", "elu", "sigmoid", "softsign", "prelu", "preluExt",
               "leakyrelu", "hswish", "hsigmoid", "logsigmoid", "softshrink", "hshrink", "mish")
# Names get_activation must refuse or that need arguments (compared as errors only).
ACTIVATION_ERRORS = ("threshold", "Relu", "RELU", "swish", "", "logsoftmaxext", "PReLU", "prelu ", "gelu2")
ACTIVATION_NO_VALUES = ("rrelu", "logsoftmaxExt")  # random values / no MindSpore CPU kernel: names only


def _num(rng, lo=-2.0, hi=2.0):
    return round(rng.uniform(lo, hi), 3)


def _shape(rng, min_rank=1, max_rank=4, zero=False):
    rank = rng.randint(min_rank, max_rank)
    return tuple(0 if zero and rng.random() < 0.15 else rng.randint(1, 6) for _ in range(rank))


def _array(rng, dtype=None, shape=None):
    dtype = dtype or rng.choice(NP_DTYPES)
    shape = shape if shape is not None else _shape(rng, 0, 3)
    seed = rng.randint(0, 2**31 - 1)
    if dtype == "bool":
        return f"(np.random.RandomState({seed}).rand(*{shape!r}) > 0.5)"
    if dtype.startswith(("int", "uint")):
        return f"np.random.RandomState({seed}).randint(0, 100, size={shape!r}).astype(np.{dtype})"
    return f"(np.random.RandomState({seed}).randn(*{shape!r}) * 3).astype(np.{dtype})"


def _initializer(rng, rank=None):
    """Source of an initializer argument: a name, an Initializer (sometimes with bad arguments) or a number."""
    roll = rng.random()
    if roll < 0.25:
        return repr(rng.choice(["normal", "uniform", "zeros", "ones", "xavier_uniform", "he_uniform", "he_normal",
                                "xavier_normal", "truncatednormal", "orthogonal", "Normal", "HeUniform", "ONES"]))
    if roll < 0.3:
        return repr(rng.choice([0, 1, 2.5, -1.0]))
    choice = rng.choice(["Normal", "Uniform", "TruncatedNormal", "HeUniform", "HeNormal", "XavierUniform",
                         "XavierNormal", "Constant", "Orthogonal", "Sparse", "VarianceScaling", "One", "Zero",
                         "Identity", "Dirac"])
    if choice == "Normal":
        return f"init.Normal(sigma={abs(_num(rng)) if rng.random() < 0.9 else _num(rng)}, mean={_num(rng)})"
    if choice == "Uniform":
        return f"init.Uniform(scale={_num(rng, 0.01, 3) if rng.random() < 0.9 else _num(rng)})"
    if choice == "TruncatedNormal":
        a = _num(rng, -3, 0)
        return f"init.TruncatedNormal(sigma={_num(rng, 0.01, 2)}, mean={_num(rng, -0.5, 0.5)}, a={a}, b={a + _num(rng, 0.5, 4)})"
    if choice in ("HeUniform", "HeNormal"):
        mode = rng.choice(["'fan_in'", "'fan_out'"])
        nonlinearity = rng.choice(["'leaky_relu'", "'relu'", "'tanh'", "'linear'", "'sigmoid'"])
        return f"init.{choice}(negative_slope={abs(_num(rng, 0, 1))}, mode={mode}, nonlinearity={nonlinearity})"
    if choice in ("XavierUniform", "XavierNormal", "Orthogonal"):
        return f"init.{choice}(gain={_num(rng, 0.1, 3)})"
    if choice == "Constant":
        return f"init.Constant({_num(rng)})"
    if choice == "Sparse":
        return f"init.Sparse(sparsity={round(rng.uniform(0, 0.9), 2)}, sigma={_num(rng, 0.01, 1)})"
    if choice == "VarianceScaling":
        return (f"init.VarianceScaling(scale={_num(rng, 0.1, 3)}, mode={rng.choice(['fan_in', 'fan_out', 'fan_avg'])!r}, "
                f"distribution={rng.choice(['truncated_normal', 'untruncated_normal', 'uniform'])!r})")
    if choice == "Dirac":
        return f"init.Dirac(groups={rng.choice([1, 1, 2])})"
    return f"init.{choice}()"


def step_init(rng):
    shape = _shape(rng, 1, 4)
    if rng.random() < 0.1:
        shape = (rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 4))
    dtype = rng.choice(("ms.float32", "ms.float32", "ms.float16", "ms.float64"))
    return [["init", "exec", f"set_seed({rng.randint(0, 2**31 - 1)})"],
            ["init", "eval", f"initializer({_initializer(rng)}, {list(shape)!r}, {dtype}).init_data()"]]


def _param_data(rng):
    roll = rng.randrange(14)
    if roll == 0:
        return repr(rng.randint(-1000, 1000))
    if roll == 1:
        return repr(_num(rng))
    if roll == 2:
        return rng.choice(["True", "1+2j", "(1, 2)", "None", "'abc'", "np.float32(1.5)", "np.int64(3)",
                           "np.float64(2.5)", "np.bool_(True)", "[1, 2.5]", "[[1, 2], [3]]", "[]", "2**31 - 1"])
    if roll == 3:
        return f"[{', '.join(repr(rng.randint(-9, 9)) for _ in range(rng.randint(1, 4)))}]"
    if roll == 4:
        return rng.choice(["np.zeros(2, dtype=[('a', 'i4')])", "np.array([1, 'a'], dtype=object)",
                           "np.array([1, 2], dtype='m8[s]')", "np.arange(3, dtype='>f4')", "np.array(['a', 'bc'])"])
    if roll in (5, 6):
        return f"Tensor({_array(rng)})"
    if roll == 7:
        return f"initializer({_initializer(rng)}, {list(_shape(rng, 1, 3))!r}, ms.float32)"
    return _array(rng)


def step_param(rng):
    name = rng.choice(["None", "'w'", "'x_1'", "'a.b'", "''", "'  '", "3", "'Parameter'", "'p'"])
    grad = rng.choice(["True", "False", "True", "1"])
    steps = [["param", "exec", f"set_seed({rng.randint(0, 999)})"],
             ["param", "eval", f"Parameter({_param_data(rng)}, name={name}, requires_grad={grad})"]]
    if rng.random() < 0.5:
        steps.append(["param", "eval", f"str(Parameter({_param_data(rng)}, name='q').asnumpy().dtype)"])
    return steps


def _list_data(rng):
    return rng.choice(["[[1, 2], [3]]", "[1, 'a']", "[1, None]", "[1, [2]]", "['a', 'b']", "((1, 2), (3,))",
                       "[1, 2.5]", "[True, 2]", "[]", "[[]]", "[2**70]", "[np.float32(1), 2]", "[1.5, 2.5]",
                       "[[1, 2], [3, 4]]", "(1, 2, 3)", "[True, False]", "[1+1j, 2]"])


def step_tensor(rng):
    roll = rng.randrange(6)
    if roll == 0:
        return [["tensor", "eval", f"Tensor({_list_data(rng)})"]]
    if roll == 1:
        source = rng.choice(["np.zeros(2, dtype=[('a', 'i4'), ('b', 'f4')])", "np.array([1, 'a'], dtype=object)",
                             "np.array([1, 2], dtype=object)", "np.array([1, 2], dtype='m8[s]')",
                             "np.array([1, 2], dtype='M8[s]')", "np.arange(3, dtype='>f4')",
                             "np.arange(3, dtype='>i8')", "np.array(['a', 'bc'])", "np.array([b'a', b'bc'])",
                             "np.array([['x', 'y'], ['z', 'w']])", "np.array('abc')"])
        return [["tensor", "eval", f"Tensor({source})"]]
    if roll == 2:
        shape = rng.choice([repr(_shape(rng, 0, 3, zero=True)), "3", "[2, 2]", "(0, 2)"])
        return [["tensor", "eval", f"Tensor(dtype={rng.choice(ALL_DTYPES)}, shape={shape})"]]
    if roll == 3:
        return [["tensor", "eval", f"Tensor({_array(rng)}, dtype={rng.choice(ALL_DTYPES)})"]]
    if roll == 4:
        return [["tensor", "eval", f"Tensor({rng.choice(['1', '2.5', 'True', '1+2j', '-7'])}, "
                                   f"dtype={rng.choice(('None',) + ALL_DTYPES)})"]]
    return [["tensor", "eval", f"Tensor({_array(rng)})"]]


def step_tensor_ops(rng):
    steps = [["tensor_ops", "exec", f"t = Tensor({_array(rng, rng.choice(NP_DTYPES[:12]))})"]]
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(8)
        if op == 0:
            steps.append(["tensor_ops", "eval", f"t.set_dtype({rng.choice(ALL_DTYPES)})"])
            steps.append(["tensor_ops", "eval", "t"])
        elif op == 1:
            steps.append(["tensor_ops", "eval", "(t.strides, t.shape, t.size, t.ndim, t.itemsize, t.nbytes)"])
        elif op == 2:
            array = _array(rng, rng.choice(NP_DTYPES[:12]), _shape(rng, 2, 3))
            transpose = rng.choice(["", ".T", "[:, ::2]"])
            steps.append(["tensor_ops", "exec", f"a = {array}{transpose}"])
            steps.append(["tensor_ops", "eval", rng.choice(["Tensor.from_numpy(a)", "ms.from_numpy(a)"])])
            steps.append(["tensor_ops", "eval", "(Tensor.from_numpy(a).strides, np.shares_memory(Tensor.from_numpy(a).asnumpy(), a))"])
        elif op == 3:
            steps.append(["tensor_ops", "eval", f"ms.is_tensor({rng.choice(['t', '1', 'np.ones(2)', 'None', 'Parameter(1.0)', '[t]'])})"])
        elif op == 4:
            steps.append(["tensor_ops", "eval", f"t.assign_value(Tensor({_array(rng, rng.choice(NP_DTYPES[:12]))}))"])
            steps.append(["tensor_ops", "eval", "t"])
        elif op == 5:
            steps.append(["tensor_ops", "eval", f"t.astype({rng.choice(ALL_DTYPES)})"])
        elif op == 6:
            steps.append(["tensor_ops", "eval", rng.choice(["str(t)", "t.asnumpy()", "t.dtype", "t.shape"])])
        else:
            steps.append(["tensor_ops", "eval", rng.choice(["Tensor.from_numpy([1, 2])", "Tensor.from_numpy(np.float32(1))",
                                                            "Tensor.from_numpy(np.array([1, 'a'], dtype=object))"])])
    return steps


def step_set_data(rng):
    pdtype = rng.choice(NP_DTYPES[:12])
    steps = [["set_data", "exec", f"p = Parameter({_array(rng, pdtype, (2, 3))}, name='p')"]]
    for _ in range(rng.randint(1, 3)):
        shape = (2, 3) if rng.random() < 0.8 else (3, 2)
        incoming = rng.choice([f"Tensor({_array(rng, rng.choice(NP_DTYPES[:12]), shape)})", repr(_num(rng)),
                               repr(rng.randint(-5, 5)), "True", f"{_array(rng, 'float32', shape)}"])
        steps.append(["set_data", "eval", f"p.set_data({incoming})"])
        steps.append(["set_data", "eval", "p"])
    return steps


def step_pupdate(rng):
    pdtype, xdtype = rng.choice(NP_DTYPES[:13]), rng.choice(NP_DTYPES[:13])
    shape = (3,) if rng.random() < 0.9 else (2,)
    return [["pupdate", "exec", f"p = Parameter(Tensor(np.ones(3, np.{pdtype})), name='p')"],
            ["pupdate", "exec", "u = nn.ParameterUpdate(p)"],
            ["pupdate", "eval", f"u(Tensor({_array(rng, xdtype, shape)}))"],
            ["pupdate", "eval", "p"],
            ["pupdate", "eval", "[(k, v.name) for k, v in u.parameters_and_names()]"]]


def _init_arg(rng, default):
    return _initializer(rng) if rng.random() < 0.85 else repr(default)


def step_dense(rng):
    cin, cout = rng.randint(1, 6), rng.randint(1, 6)
    activation = repr(rng.choice(ACTIVATIONS)) if rng.random() < 0.4 else "None"
    has_bias = rng.choice(["True", "False"])
    weight = _init_arg(rng, "normal") if rng.random() < 0.9 else f"Tensor({_array(rng, 'float32', (cout, cin))})"
    steps = [["dense", "exec", f"set_seed({rng.randint(0, 2**31 - 1)})"],
             ["dense", "exec", f"d = nn.Dense({cin}, {cout}, weight_init={weight}, bias_init={_init_arg(rng, 'zeros')}, "
                               f"has_bias={has_bias}, activation={activation})"],
             ["dense", "eval", "d"]]
    x = _array(rng, rng.choice(["float32", "float64"]), (rng.randint(1, 3), cin))
    steps.append(["forward", "eval", f"d(Tensor({x}))"])
    return steps


def step_dense_errors(rng):
    bad = rng.choice(["in_channels=0", "in_channels=1.0", "in_channels=True", "has_bias=1", "activation=1",
                      "weight_init='foo'", "weight_init=Tensor(np.ones((2, 2), np.float32))",
                      "bias_init=Tensor(np.ones((3,), np.float32))", "activation='Relu'", "activation='threshold'",
                      "out_channels=-1"])
    kwargs = {"in_channels": "3", "out_channels": "2"}
    key, value = bad.split("=", 1)
    kwargs[key] = value
    return [["dense_err", "eval", "nn.Dense(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"]]


def step_conv(rng):
    group = rng.choice([1, 1, 1, 2])
    cin, cout = group * rng.randint(1, 3), group * rng.randint(1, 3)
    kernel = rng.choice([1, 2, 3, (1, 3), (3, 2)])
    stride = rng.choice([1, 1, 2, (1, 2)])
    dilation = rng.choice([1, 1, 2, (2, 1)])
    pad_mode = rng.choice(["same", "valid", "pad"])
    padding = rng.choice([0, 1, (0, 1, 1, 0)]) if pad_mode == "pad" else 0
    has_bias = rng.choice(["True", "False"])
    steps = [["conv", "exec", f"set_seed({rng.randint(0, 2**31 - 1)})"],
             ["conv", "exec", f"c = nn.Conv2d({cin}, {cout}, {kernel!r}, stride={stride!r}, pad_mode={pad_mode!r}, "
                              f"padding={padding!r}, dilation={dilation!r}, group={group}, has_bias={has_bias}, "
                              f"weight_init={_init_arg(rng, 'normal')}, bias_init={_init_arg(rng, 'zeros')})"],
             ["conv", "eval", "c"],
             ["conv", "eval", "(c.kernel_size, c.stride, c.dilation, c.pad_mode, c.padding, c.group, c.has_bias)"]]
    x = _array(rng, "float32", (rng.choice([0, 1, 1, 2]), cin, rng.randint(1, 7), rng.randint(1, 7)))
    steps.append(["forward", "eval", f"c(Tensor({x}))"])
    return steps


def step_conv_errors(rng):
    bad = rng.choice(["pad_mode='Same'", "pad_mode='VALID'", "pad_mode='Pad'", "pad_mode='x'", "pad_mode=1",
                      "stride=(2,)", "stride=(1, 2, 3)", "stride=[1, 1]", "stride=0", "stride=1.5", "stride=True",
                      "kernel_size=(2,)", "kernel_size=0", "dilation=(1,)", "padding=(1, 2)", "padding=-1",
                      "padding=[1, 1, 1, 1]", "group=0", "in_channels=0", "has_bias=1", "data_format='nchw'",
                      "padding=1", "stride=(1, 0)", "kernel_size=(1, -1)", "group=3"])
    kwargs = {"in_channels": "2", "out_channels": "2", "kernel_size": "1"}
    key, value = bad.split("=", 1)
    kwargs[key] = value
    return [["conv_err", "eval", "nn.Conv2d(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"]]


def step_activation(rng):
    if rng.random() < 0.25:
        name = rng.choice(ACTIVATION_ERRORS)
        return [["act_err", "eval", f"nn.get_activation({name!r})"]]
    name = rng.choice(ACTIVATIONS + ACTIVATION_NO_VALUES)
    steps = [["act", "eval", f"nn.get_activation({name!r})"]]
    if name not in ACTIVATION_NO_VALUES:
        x = _array(rng, "float32", (1, 2, 3, 4) if name in ("softmax2d",) else _shape(rng, 1, 3))
        steps.append(["forward", "eval", f"nn.get_activation({name!r})(Tensor({x}))"])
    if rng.random() < 0.3:
        steps.append(["act", "eval", f"nn.Dense(3, 2, weight_init='ones', bias_init='zeros', activation={name!r})"])
    return steps


def _param_source(rng, named):
    name = f", name={rng.choice(['a', 'b', 'c', 'w'])!r}" if named else ""
    return f"Parameter(Tensor(np.ones({rng.randint(1, 3)}, np.float32)){name})"


def step_cell(rng):
    """A Cell with Parameters, ParameterTuples and plain tuples of Parameters, possibly nested."""
    lines = ["class Inner(nn.Cell):", "    def __init__(self):", "        super().__init__()"]
    for i in range(rng.randint(1, 4)):
        kind = rng.randrange(4)
        if kind == 0:
            lines.append(f"        self.w{i} = {_param_source(rng, rng.random() < 0.5)}")
        elif kind == 1:
            items = ", ".join(_param_source(rng, rng.random() < 0.3) for _ in range(rng.randint(1, 3)))
            lines.append(f"        self.pt{i} = ParameterTuple([{items}])")
        elif kind == 2:
            items = ", ".join(_param_source(rng, rng.random() < 0.5) for _ in range(rng.randint(1, 3)))
            lines.append(f"        self.tup{i} = ({items},)")
        else:
            lines.append(f"        self.d{i} = nn.Dense(2, 2, weight_init='ones', bias_init='zeros')")
    lines.append("    def construct(self, x):")
    lines.append("        return x")
    outer = ["class Outer(nn.Cell):", "    def __init__(self):", "        super().__init__()",
             "        self.s1 = Inner()", "        self.s2 = Inner()", "    def construct(self, x):", "        return x"]
    steps = [["cell", "exec", "\n".join(lines)], ["cell", "exec", "\n".join(outer)],
             ["cell", "eval", "Inner()"], ["cell", "eval", "Outer()"],
             ["cell", "eval", "list(Outer().parameters_dict())"],
             ["cell", "eval", "sorted(set(type(v).__name__ for v in vars(Inner()).values() if isinstance(v, (tuple, list))))"]]
    if rng.random() < 0.4:
        steps.append(["cell", "eval", "len(Outer().init_parameters_data())"])
        steps.append(["cell", "eval", "(lambda n: [v is k for k, v in n.init_parameters_data().items()])(Outer())"])
    if rng.random() < 0.3:
        steps.append(["cell", "eval", "(lambda seen: (Outer().apply(lambda c: seen.append(type(c).__name__)), seen)[1])([])"])
    if rng.random() < 0.3:
        prefix = rng.choice(["pre", "a.b", "x-", ""])
        steps.append(["cell", "eval", f"(lambda o: (o.update_parameters_name({prefix!r}), "
                                      f"[(k, p.name) for k, p in o.parameters_and_names()])[1])(Outer())"])
    if rng.random() < 0.3:
        steps.append(["cell", "eval", "[(p.name, p.requires_grad) for p in Inner().trainable_params()]"])
    return steps


def step_cell_errors(rng):
    case = rng.randrange(6)
    if case == 0:
        return [["cell_err", "exec", "class NoConstruct(nn.Cell):\n    def __init__(self):\n        super().__init__()"],
                ["cell_err", "eval", "NoConstruct()(1)"], ["cell_err", "eval", "nn.Cell()(1)"]]
    if case == 1:
        return [["cell_err", "exec", "class NoSuper(nn.Cell):\n    def __init__(self):\n        self.a = 1\n"
                                     "    def construct(self, x):\n        return x"],
                ["cell_err", "eval", rng.choice(["NoSuper()(1)", "list(NoSuper().parameters_dict())",
                                                 "NoSuper().insert_param_to_cell('w', Parameter(1.0))"])]]
    if case == 2:
        first, second = rng.sample(["Parameter(1.0, name='w')", "nn.ReLU()", "5", "None", "Tensor(2.0)"], 2)
        return [["cell_err", "exec", "c = nn.Cell()"], ["cell_err", "exec", f"c.x = {first}"],
                ["cell_err", "exec", f"c.x = {second}"], ["cell_err", "eval", "c"],
                ["cell_err", "eval", "sorted(c.parameters_dict())"]]
    if case == 3:
        arg = rng.choice(["1", "0", "None", "''", "'a.b'", "('x',)", "1.5", "b'x'", "'w'", "'training'"])
        dot = rng.choice(["True", "False"])
        return [["cell_err", "eval", f"nn.Cell().insert_param_to_cell({arg}, Parameter(1.0, name='w'), check_name_contain_dot={dot})"],
                ["cell_err", "eval", f"nn.Cell().insert_child_to_cell({arg}, nn.ReLU())"],
                ["cell_err", "eval", f"nn.Cell().insert_param_to_cell('ok', {rng.choice(['1', 'None', 'Tensor(1.0)'])})"]]
    if case == 4:
        return [["cell_err", "eval", f"nn.Cell().init_parameters_data(auto_parallel_mode={rng.choice(['True', 'False', '1'])})"],
                ["cell_err", "eval", "nn.Cell().apply(1)"]]
    return [["cell_err", "exec", "c = nn.Cell()"],
            ["cell_err", "exec", f"c.t = ({_param_source(rng, True)}, {_param_source(rng, True)})"],
            ["cell_err", "exec", f"c.u = [{_param_source(rng, True)}]"],
            ["cell_err", "eval", "sorted(c.parameters_dict())"]]


PREFIXES = ("", "-", "a", "a.b", "a-b", "_", "1a", ".a", "a..", "a b", "é", "a/b", "a:b", "a$", "-a", "a.", "ab-",
            "x_y.z", "A9", "\t")


def step_prefix(rng):
    prefix = rng.choice(PREFIXES) if rng.random() < 0.9 else rng.choice([1, None])
    return [["prefix", "exec", "d = nn.Dense(1, 1, weight_init='ones', bias_init='zeros')"],
            ["prefix", "eval", f"d.update_parameters_name({prefix!r})"],
            ["prefix", "eval", "[p.name for p in d.get_parameters()]"],
            ["prefix", "eval", f"[p.name for p in ParameterTuple([Parameter(1.0, name='w'), Parameter(2.0, name='v')]).clone({prefix!r})]"]]


def step_tuple(rng):
    items = [_param_source(rng, rng.random() < 0.5) for _ in range(rng.randint(1, 4))]
    return [["tuple", "exec", f"pt = ParameterTuple([{', '.join(items)}])"],
            ["tuple", "eval", "pt"],
            ["tuple", "eval", f"pt.clone({rng.choice(['pre', 'a.b', '_x'])!r}, init={rng.choice(['same', 'zeros', 'ones', 2.0])!r})"],
            ["tuple", "eval", "ParameterTuple([Parameter(1.0, name='a'), Parameter(2.0, name='a')])"]]


def step_dtype(rng):
    obj = rng.choice(["list", "tuple", "str", "[1]", "(1,)", "'a'", "None", "type(None)", "dict", "{}", "bytes",
                      "np.str_", "1", "1.0", "True", "1j", "int", "float", "bool", "complex", "np.float32",
                      "np.float32(1)", "np.int8", "np.bool_", "slice", "np.dtype('float32')", "np.ones(2)"])
    func = rng.choice(["pytype_to_dtype", "get_py_obj_dtype"])
    dtype = rng.choice(["mstype.list_", "mstype.tuple_", "mstype.string", "mstype.type_none"] + list(ALL_DTYPES))
    return [["dtype", "eval", f"mstype.{func}({obj})"],
            ["dtype", "eval", f"mstype.dtype_to_pytype({dtype})"],
            ["dtype", "eval", f"(str({dtype}), {dtype} == {dtype}, {dtype} in mstype.number_type)"],
            ["dtype", "eval", f"mstype.dtype_to_nptype({dtype})"]]


def step_container(rng):
    count = rng.randint(1, 3)
    cells = ", ".join(rng.choice(["nn.Dense(2, 2, weight_init='ones', bias_init='zeros')", "nn.ReLU()",
                                  "nn.Conv2d(2, 2, 1, weight_init='ones')"]) for _ in range(count))
    kind = rng.choice(["SequentialCell", "CellList"])
    steps = [["container", "exec", f"s = nn.{kind}([{cells}])"], ["container", "eval", "s"]]
    if rng.random() < 0.5:
        steps += [["container", "exec", "s.append(nn.Dense(2, 2, weight_init='zeros', bias_init='zeros'))"], ["container", "eval", "s"]]
    if rng.random() < 0.3:
        steps += [["container", "exec", "del s[0]"], ["container", "eval", "s"]]
    if kind == "CellList" and rng.random() < 0.3:
        steps.append(["container", "eval", "s(1)"])
    return steps


def step_r19(rng):
    """What the r1.9 tutorial fixes: printed cells, .data, the layer defaults, int Parameters."""
    layer = rng.choice(["nn.Dense(3, 2, weight_init='ones', bias_init='zeros')", "nn.ReLU()",
                        "nn.Conv2d(2, 2, 1, weight_init='ones')",
                        "nn.SequentialCell([nn.Dense(2, 2, weight_init='ones', bias_init='zeros'), nn.ReLU()])"])
    steps = [["print", "eval", f"repr({layer})"],
             ["data", "eval", "Parameter(Tensor(np.ones(2, np.float32)), name='x').data"]]
    if rng.random() < 0.5:
        steps.append(["defaults", "exec", f"set_seed({rng.randint(0, 999)})"])
        steps.append(["defaults", "eval", rng.choice(["nn.Dense(3, 2)", "nn.Conv2d(2, 2, 3, has_bias=True)",
                                                      "nn.Dense(3, 2, weight_init=None, bias_init=None)"])])
    if rng.random() < 0.3:
        steps.append(["param", "eval", f"Parameter({rng.choice(['2**31', '-2**31 - 1', '2**40'])}, name='big')"])
    steps.append(["param", "eval", "Parameter(Tensor(np.ones(2, np.float32)), name='x')"])
    return steps


def step_api_errors(rng):
    """Bad calls across the API: compared by exception class."""
    source = rng.choice([
        "initializer('foo', [2], ms.float32)", "initializer(1.5, [2, 0], ms.float32).init_data()",
        "initializer('ones', [2, -1], ms.float32)", "initializer('ones', 'a', ms.float32)",
        "initializer('ones', [2], ms.list_)", "initializer(None, [2])", "initializer([1.0], [1])",
        "initializer(Tensor(np.ones((2, 3), np.float32)), [3, 2])", "init.Normal(sigma='a')",
        "initializer(init.Sparse(sparsity=0.5), [3], ms.float32).init_data()",
        "initializer(init.Orthogonal(), [3], ms.float32).init_data()",
        "initializer(init.Dirac(), [3, 3], ms.float32).init_data()",
        "initializer(init.Identity(), [2, 2, 2], ms.float32).init_data()",
        "initializer('xavier_uniform', [3], ms.float32).init_data()",
        "Tensor(dtype=ms.float32, shape=(2,), init=init.One())", "Tensor(dtype=ms.float32, shape=(2,), init='ones')",
        "Tensor(dtype=ms.float32, init=init.One())", "Tensor([1, 2], dtype=np.float32)", "Tensor({1: 2})",
        "Tensor([1, 2], shape=(2,))", "Tensor(np.ones(2)).astype('float32')", "Tensor(np.ones(2)).astype(ms.float32)",
        "set_seed(-1)", "set_seed(1.5)", "set_seed(True)", "set_seed(2**64)",
        "setattr(Parameter(1.0, name='p'), 'requires_grad', 1)", "setattr(Parameter(1.0, name='p'), 'name', 3)",
        "setattr(Parameter(1.0, name='p'), 'name', 'n' * 1025)",
        "Parameter(1.0, name='p').set_data('a')", "Parameter(1.0, name='p').set_data(None)",
        "Parameter(1.0, name='p').set_data(Tensor(1.0), slice_shape=1)",
        "nn.SequentialCell(1)", "nn.SequentialCell([1])", "nn.SequentialCell(nn.ReLU(), 1)",
        "nn.CellList(None)", "nn.CellList([1])", "nn.CellList([nn.ReLU()])[5]", "nn.SequentialCell([nn.ReLU()])[5]",
        "nn.CellList([nn.ReLU()])['a']", "nn.SequentialCell([nn.ReLU()])['a']",
        "nn.CellList([nn.ReLU()]).insert(5, nn.ReLU())", "nn.CellList([nn.ReLU()]).extend(nn.ReLU())",
        "nn.CellList([nn.ReLU()]).append(1)", "nn.SequentialCell([nn.ReLU()]).append(1)",
        "ParameterTuple([1.0])", "ParameterTuple([Tensor(1.0)])", "ParameterTuple(Parameter(1.0, name='x'))",
        "mstype.pytype_to_dtype(3)", "mstype.dtype_to_pytype(int)", "mstype.dtype_to_nptype('int32')",
        "mstype.dtype_to_nptype(mstype.float_)", "mstype.dtype_to_pytype(mstype.number)",
        "nn.Dense(3, 2, weight_init='ones', bias_init='zeros')(np.ones((1, 3), np.float32))", "nn.Dense(3, 2, weight_init='ones', bias_init='zeros')(Tensor(np.ones((1, 4), np.float32)))",
        "nn.Dense(3, 2, weight_init='ones', bias_init='zeros')(Tensor(np.ones(3, np.float32)))", "nn.Dense(3, 2, weight_init='ones', bias_init='zeros')(Tensor(np.ones((1, 3), np.int32)))",
        "nn.Conv2d(2, 2, 1)(Tensor(np.ones((1, 3, 2, 2), np.float32)))",
        "nn.Conv2d(2, 2, 1)(Tensor(np.ones((2, 2, 2), np.float32)))",
        "nn.Conv2d(2, 2, 1)(Tensor(np.ones((1, 2, 2, 2), np.int32)))",
        "nn.ReLU()(np.ones(2, np.float32))", "nn.Softmax(axis=1.5)", "nn.LeakyReLU('0.1')", "nn.ELU(alpha='a')",
        "nn.Hardtanh(1.0, -1.0)", "nn.SoftShrink(-1)", "nn.GELU(approximate=1)", "nn.PReLU(0)", "nn.PReLU(2, [0.5])",
        "nn.PReLU(1, Tensor(np.ones(1, np.int32)))", "nn.RReLU('a')", "nn.RReLU(0.5, 0.1)",
        "nn.ParameterUpdate(Tensor(1.0))", "nn.Dense(3, 2).update_parameters_name(1)",
    ])
    return [["api_err", "eval", source]]

SAVE_OBJECTS = ("net", "net", "net.trainable_params()", "ParameterTuple(net.get_parameters())",
                "{'w': np.ones(2, np.float32), 'x': 1}",
                "[{'name': 'w', 'data': Tensor(np.arange(4.0).reshape(2, 2))}, {'name': 'n', 'data': Tensor([1, 2])}]",
                "{'w': Tensor(np.ones(3, np.float32)), 'v': Parameter(Tensor(np.arange(3.0)), name='v')}",
                "[{'name': 'w', 'data': Tensor(1.0)}, {'name': 'w', 'data': Tensor(2.0)}]",
                "[Parameter(Tensor(np.ones(2, np.float16)), name='h'), Parameter(Tensor([True, False]), name='f')]",
                "1", "'a'", "None", "[1]", "[{'name': 'w'}]", "{'w': 1}", "[{'name': 1, 'data': Tensor(1.0)}]", "[]")
SAVE_ARGUMENTS = {
    "integrated_save": ("True", "False", "1"),
    "async_save": ("False", "True", "'thread'", "'process'", "'x'", "1"),
    "append_dict": ("None", "{'epoch_num': 2}", "{'lr': 0.5, 'flag': True}", "{'t': Tensor(np.ones(2, np.float32))}",
                    "{'s': 'abc'}", "{1: 2}", "[1]", "{'w': 3}", "{'x': [1]}"),
    "enc_key": ("None", "b'0123456789abcdef'", "'key'"),
    "choice_func": ("None", "lambda name: name.startswith('w')", "lambda name: False", "1"),
    "crc_check": ("True", "False", "1"),
    "format": ("'ckpt'", "'safetensors'", "'x'", "1"),
    "incremental": ("False", "True", "1"),
    "global_step_num": ("None", "3"),
    "remove_redundancy": ("False", "True", "1"),
    "unknown_keyword": ("1",),
}
LOAD_ARGUMENTS = {
    "net": ("None", "net2"),
    "strict_load": ("True", "False", "1"),
    "filter_prefix": ("None", "'w'", "['w', 'b']", "1", "''", "('weight',)", "[1]"),
    "specify_prefix": ("None", "'w'", "['bias', 'v']", "1"),
    "dec_key": ("None", "b'0123456789abcdef'"),
    "choice_func": ("None", "lambda name: name != 'bias'", "1"),
    "crc_check": ("True", "False", "1"),
    "remove_redundancy": ("False", "True", "1"),
    "format": ("'ckpt'", "'safetensors'", "'x'"),
}


def _some_arguments(rng, table, chance):
    chosen = [(key, rng.choice(values)) for key, values in table.items() if rng.random() < chance]
    return "".join(f", {key}={value}" for key, value in chosen)


def step_ckpt(rng):
    """save_checkpoint / load_checkpoint / load_param_into_net with MindSpore 2.10's arguments, good and bad.
    ``tmp`` is a fresh directory per program; ``saved()`` is the file in it, ``wait()`` waits for async saves."""
    fmt = rng.choice(["ckpt", "ckpt", "safetensors"])
    name = rng.choice([f"net.{fmt}", "net", f"sub/net.{fmt}", "net.bin"])
    path = f"os.path.join(tmp, {name!r})" if rng.random() < 0.95 else rng.choice(["1", "tmp"])
    save_format = "" if fmt == "ckpt" and rng.random() < 0.5 else f", format={fmt!r}"
    save_args = save_format + _some_arguments(rng, SAVE_ARGUMENTS, 0.12)
    load_format = "" if fmt == "ckpt" and rng.random() < 0.5 else f", format={fmt!r}"
    load_args = load_format + _some_arguments(rng, LOAD_ARGUMENTS, 0.15)
    layer = ("nn.Dense(2, 3, weight_init='normal', bias_init='uniform')" if rng.random() < 0.6 else
             "nn.SequentialCell([nn.Dense(2, 2, weight_init='ones', bias_init='zeros'), nn.ReLU()])")
    if rng.random() < 0.2 and "async_save=" not in save_args:
        save_args += f", async_save={rng.choice(['True', repr('thread'), repr('process')])}"
    steps = [["ckpt", "exec", f"set_seed({rng.randint(0, 999)})\nnet = {layer}\nnet2 = {layer}"],
             ["ckpt", "eval", f"save_checkpoint({rng.choice(SAVE_OBJECTS)}, {path}{save_args})"],
             # an async save holds the values of the call: a write through any alias after it is not saved
             ["ckpt", "exec", "for p in net.get_parameters():\n    p.asnumpy()[...] = 7"],
             ["ckpt", "exec", "wait()"],
             ["ckpt", "eval", "sorted(os.listdir(tmp))"],
             ["ckpt", "eval", f"load_checkpoint(saved(){load_args})"]]
    if rng.random() < 0.5:
        steps.append(["ckpt", "eval", f"load_param_into_net(net2, load_checkpoint(saved()), "
                                      f"strict_load={rng.choice(['True', 'False'])})"])
        steps.append(["ckpt", "eval", "net2"])
    return steps


STEPS = (step_api_errors, step_api_errors, step_r19, step_init, step_init, step_param, step_tensor, step_tensor_ops, step_set_data, step_pupdate, step_dense,
         step_dense_errors, step_conv, step_conv_errors, step_activation, step_cell, step_cell_errors, step_prefix,
         step_tuple, step_dtype, step_container, step_ckpt, step_ckpt)


def generate(seed):
    """The program of ``seed``: 2 to 6 random step groups."""
    rng = random.Random(seed)
    program = []
    for _ in range(rng.randint(2, 6)):
        program += rng.choice(STEPS)(rng)
    return program
