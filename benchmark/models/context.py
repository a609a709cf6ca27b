"""What a method's ``fit`` receives: :class:`FitContext`, the run's data, models and helpers
(training loop, features, merge-coefficient selection). There is no test split here, by design."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from benchmark.errors import ConfigError
from benchmark.models import merging, training
from benchmark.models.backbones import Backbone, States
from benchmark.models.training import Classifier, ExtraLoss, LabeledStates, TrainConfig, TrainResult


@dataclass
class FitContext:
    """Everything a method may use. There is no test split here, by design.

    Attributes:
        backbone: the family's backbone (knows its blocks and feature width).
        config: the protocol's optimisation settings (shared by every method).
        num_labels: number of target classes C.
        train, validation: target stem states ``States`` with labels ``(N,)`` and ids.
        make_trunk: a fresh trainable trunk with pretrained (or, for ``stem_init="random"``
            methods, the run's random) weights; returns ``nn.Module`` mapping a batch to ``(B, D)``.
        source: the frozen source-tuned classifier (trunk + source head), for methods with
            ``needs_source``; trained once per (backbone, source task, seed) and shared. With
            K >= 2 sources (a fusion group) it is None: use ``sources``.
        sources: the source pool, the K frozen source-tuned classifiers in the order of the
            run's source set (task names sorted); ``(source,)`` for a pair. A method that takes
            K >= 2 sources (``max_sources``) reads this; a pairwise one may keep ``source``.
        generator: the run's seeded torch generator; all randomness comes from it.
        device: torch device string.
        source_train: the source task's training draw (the one its source model was tuned
            on) as stem states with source labels, for methods with ``needs_source_data``
            (e.g. joint multi-task training); None otherwise. ``source_num_labels``,
            ``source_feature_dim``: its number of classes and the trunk's feature width on
            its inputs (a sentence-pair task's differs from a single sentence's); 0 without a source.
            ``source_trains``, ``source_label_counts``, ``source_feature_dims``: the same per
            source of the pool, in its order (``source_train`` etc. are the single one when K = 1).
        reference: for methods with ``needs_reference_fit``, a trainable copy of the reference
            method's fit (``target_only``) on this run's target draw and seed, trained once and
            shared with that run (so a merging method does not train it again); None otherwise.
        merge_all: the run evaluates a merge-all group's one merged model on one of its tasks.
            Then ``sources`` holds all K task models (the experts: the reference fit on each
            task's draw at the source budget, in the group's sorted order, this task's own at
            ``merge_index``), ``source_trains`` and ``source_validations`` their training and
            validation draws, and ``reference`` a trainable copy of this task's expert (its head
            is this task's). The merged trunk must depend on the pool alone, so every task of the
            group gets the same one; :meth:`select_scale` and :meth:`select_merge` then score the
            mean validation accuracy over the K tasks, each with its own expert's head.
    """

    backbone: Backbone
    config: TrainConfig
    num_labels: int
    train: LabeledStates
    validation: LabeledStates
    make_trunk: Callable[[], nn.Module]
    source: Classifier | None
    generator: torch.Generator
    device: str = "cpu"
    source_train: LabeledStates | None = None
    source_num_labels: int = 0
    source_feature_dim: int = 0
    reference: Classifier | None = None
    examples_processed: int = 0
    training: list[dict[str, object]] = dataclasses.field(default_factory=list)
    sources: tuple[Classifier, ...] = ()
    source_trains: tuple[LabeledStates, ...] = ()
    source_label_counts: tuple[int, ...] = ()
    source_feature_dims: tuple[int, ...] = ()
    merge_all: bool = False
    merge_index: int = -1
    source_validations: tuple[LabeledStates, ...] = ()

    def __post_init__(self) -> None:
        # One source can be given either way (a pairwise caller sets source=..., the harness
        # the pool): fill in the other, so ``source`` and ``sources`` always agree when K = 1.
        for one, pool in (("source", "sources"), ("source_train", "source_trains")):
            single, many = getattr(self, one), getattr(self, pool)
            if single is not None and not many:
                setattr(self, pool, (single,))
            elif single is None and len(many) == 1:
                setattr(self, one, many[0])
            elif single is not None and (len(many) != 1 or many[0] is not single):
                raise ValueError(f"FitContext got {one} and a {pool} of {len(many)} that differ; give one of them")
        for count, counts in (("source_num_labels", "source_label_counts"),
                              ("source_feature_dim", "source_feature_dims")):
            if getattr(self, count) and not getattr(self, counts):
                setattr(self, counts, (getattr(self, count),))
            elif not getattr(self, count) and len(getattr(self, counts)) == 1:
                setattr(self, count, getattr(self, counts)[0])

    def new_classifier(self, trunk: nn.Module | None = None) -> Classifier:
        """``trunk`` (default: a fresh pretrained one, :attr:`make_trunk`) with a new linear head
        ``(B, D) -> (B, num_labels)``, ``D`` the backbone's feature width, its weights drawn from
        :attr:`generator` (so the same seed gives the same head)."""
        return Classifier(trunk if trunk is not None else self.make_trunk(),
                          training.new_head(self.backbone.feature_dim, self.num_labels, self.generator))

    def source_trunk(self) -> nn.Module:
        """A trainable copy of the source-tuned trunk (``ctx.source`` itself stays frozen)."""
        if self.source is None:
            raise ConfigError("ctx.source_trunk() needs the source model; declare "
                              "'needs_source: ClassVar[bool] = True' on the method")
        trunk = copy.deepcopy(self.source.trunk)
        trunk.requires_grad_(True)
        return trunk

    def fit(self, model: Classifier, *, extra_loss: ExtraLoss | None = None,
            extra_parameters: Sequence[nn.Parameter] = (), train: LabeledStates | None = None,
            validation: LabeledStates | None = None, config: TrainConfig | None = None,
            max_epochs: int | None = None, lr: float | None = None, desc: str = "train") -> Classifier:
        """Train ``model`` in place with the shared loop (:func:`~benchmark.models.training.fit`) on
        ``ctx.train`` (early stopping on ``ctx.validation``) with the protocol's ``config`` and
        the run's generator; record its history and examples; return ``model``.

        ``extra_loss(features (B, D), logits (B, C), idx (B,)) -> scalar`` is added to the
        cross-entropy; forward passes it makes through :meth:`batch_features` are counted there.
        ``train``, ``validation``, ``config``, ``max_epochs``, ``lr`` override the protocol's
        (e.g. a head trained on precomputed features)."""
        result = training.fit(
            model, self.train if train is None else train, self.validation if validation is None else validation,
            self.config if config is None else config, self.generator, extra_loss=extra_loss, device=self.device,
            max_epochs=max_epochs, lr=lr, extra_parameters=extra_parameters, desc=desc,
        )
        self.record(result)
        return model

    def features(self, trunk: nn.Module, data: LabeledStates) -> torch.Tensor:
        """``trunk``'s outputs ``(N, D)`` float32 (on the CPU) for the N examples of ``data``, in
        eval mode without gradients (e.g. a frozen teacher's features); counted as N examples."""
        out = training.pooled_features(trunk, data.states, self.config, self.device)
        self.examples_processed += len(data)
        return out

    def batch_features(self, module: nn.Module, states: States, idx: torch.Tensor) -> torch.Tensor:
        """``module`` (in its current mode, with gradients) on examples ``idx`` ``(B,)`` of
        ``states``: ``(B, D)`` float32 on the device, e.g. a second task's batch inside an
        ``extra_loss``; counted as B examples."""
        self.examples_processed += len(idx)
        return training.batch_features(module, states, idx, self.config, self.device)

    def merge_pool(self) -> tuple[list[Classifier], list[LabeledStates]]:
        """The models a merge combines and the training draw each was tuned on: the target's
        reference fit and the K sources (``[reference, *sources]``, ``[train, *source_trains]``);
        under :attr:`merge_all`, the group's K task models alone (``sources``, ``source_trains``),
        so the merge is the same whichever task the run evaluates."""
        if self.merge_all:
            return list(self.sources), list(self.source_trains)
        assert self.reference is not None
        return [self.reference, *self.sources], [self.train, *self.source_trains]

    def _validation_passes(self) -> int:
        """Examples one candidate's validation costs: the target's, or (merge all) every task's."""
        return sum(len(v) for v in self.source_validations) if self.merge_all else len(self.validation)

    def selection_accuracy(self, model: Classifier) -> float:
        """What a merge coefficient is chosen by: ``model``'s ``validation`` accuracy; under
        :attr:`merge_all`, the mean over the group's K tasks of ``model.trunk`` with that task's
        expert head on that task's validation draw."""
        if not self.merge_all:
            return training.accuracy_of(model, self.validation, self.config, self.device)
        scores = [training.accuracy_of(Classifier(model.trunk, expert.head), data, self.config, self.device)
                  for expert, data in zip(self.sources, self.source_validations, strict=True)]
        return float(sum(scores) / len(scores))

    def select_scale(self, model: Classifier, base: nn.Module, vector: merging.TaskVector,
                     scales: Sequence[float]) -> float:
        """Set ``model.trunk`` to ``base + s * vector`` for the ``s`` in ``scales`` with the best
        validation accuracy (:meth:`selection_accuracy`; the first on ties); record every scale's
        accuracy and count one validation pass per scale. Returns the chosen ``s``."""
        if self.merge_all:
            accuracies = []
            for s in scales:
                merging.add_vector(model.trunk, base, vector, s)
                accuracies.append(self.selection_accuracy(model))
            chosen = scales[max(range(len(scales)), key=lambda i: (accuracies[i], -i))]
            merging.add_vector(model.trunk, base, vector, chosen)
        else:
            chosen, accuracies = merging.select_scale(model, base, vector, scales, self.validation, self.config,
                                                      self.device)
        self.examples_processed += len(scales) * self._validation_passes()
        self.training.append({"merge_scales": list(scales), "merge_val_accuracy": accuracies,
                              "merge_scale": chosen})
        return chosen

    def select_merge(self, model: Classifier, merged: Callable[[float], Mapping[str, torch.Tensor]],
                     grid: Sequence[float], coefficient: str) -> float:
        """For each ``c`` in ``grid``, load ``merged(c)`` (trunk parameters by name; the others stay)
        into ``model.trunk`` and measure its validation accuracy (:meth:`selection_accuracy`);
        keep the ``c`` with the best (the first on ties). Record every candidate's accuracy as
        :meth:`select_scale` does, with ``coefficient`` naming what ``c`` is, and count one
        validation pass per candidate. Returns
        the chosen ``c``; the caller may add to the record (``ctx.training[-1]``)."""
        params = dict(model.trunk.named_parameters())
        accuracies: list[float] = []
        best: tuple[float, Mapping[str, torch.Tensor]] | None = None
        for c in grid:
            candidate = merged(c)
            with torch.no_grad():
                for name, value in candidate.items():
                    params[name].copy_(value)
            accuracies.append(self.selection_accuracy(model))
            if best is None or accuracies[-1] > max(accuracies[:-1]):
                best = (c, candidate)
        assert best is not None
        with torch.no_grad():
            for name, value in best[1].items():
                params[name].copy_(value)
        self.examples_processed += len(grid) * self._validation_passes()
        self.training.append({"merge_coefficient": coefficient, "merge_scales": list(grid),
                              "merge_val_accuracy": accuracies, "merge_scale": best[0]})
        return best[0]

    def record(self, result: TrainResult, extra_examples: int = 0) -> None:
        """Report a training loop's history and work (stored in the run's ``run.json``).

        :meth:`fit` calls this itself; a method that calls ``training.fit`` directly records
        here, with ``extra_examples`` counting its forward passes outside that loop that no
        helper above counted (e.g. a teacher's features computed by hand)."""
        self.examples_processed += result.examples_processed + extra_examples
        self.training.append({"val_accuracy": result.val_accuracy, "train_loss": result.losses,
                              "best_epoch": result.best_epoch})
