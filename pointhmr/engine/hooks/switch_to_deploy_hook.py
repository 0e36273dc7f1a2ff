"""SwitchToDeployHook: validation and test loops run the model in deploy mode (the CPU fast path)."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS


@HOOKS.register_module()
class SwitchToDeployHook(Hook):
    """Call ``model.switch_to_deploy()`` (mmpose's idiom) at the start of every validation and test epoch.

    PointHMR's residual conv heads then fold their BatchNorms and run Winograd convolutions on CPU
    (:class:`pointhmr.models.layers.ResidualBasicBlock`), computed from the weights of that moment: after the
    checkpoint is loaded and after other hooks have swapped in their weights (priority LOWEST, after e.g. EMAHook). The
    train loop's ``model.train()`` leaves deploy mode again. Configured in ``default_hooks.switch_to_deploy``.
    """
    priority = 'LOWEST'

    def before_val_epoch(self, runner) -> None:
        self._switch(runner)

    def before_test_epoch(self, runner) -> None:
        self._switch(runner)

    @staticmethod
    def _switch(runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if callable(getattr(model, 'switch_to_deploy', None)):
            model.switch_to_deploy()
