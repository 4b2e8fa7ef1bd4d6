"""msparam.common holds what MindSpore 2.10's ``mindspore.common`` holds (issue 12 §3: MindSpore's own
tests write ``from mindspore.common import set_seed``)."""
import msparam as ms


def test_common_exports_mindspores_names():
    from msparam.common import Parameter, ParameterTuple, Tensor, dtype, get_seed, set_seed
    assert (set_seed, get_seed, Tensor, Parameter, ParameterTuple) == (
        ms.set_seed, ms.get_seed, ms.Tensor, ms.Parameter, ms.ParameterTuple)
    assert dtype.float32 is ms.float32
    set_seed(5)
    assert get_seed() == ms.get_seed() == 5
