"""``distill``: cross-task representation distillation from the frozen source-tuned teacher(s)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from benchmark.api import Classifier, FitContext, Method, register_method


def representation_distillation_loss(student: torch.Tensor, teacher: torch.Tensor,
                                     temperature: float) -> torch.Tensor:
    """Feature + relational distillation between ``(B, D)`` student and teacher features.

    * feature term (FitNets, Romero et al. 2015): mean squared distance between the
      L2-normalised features, ``||s/|s| - t/|t|||^2`` (0 when they point the same way);
    * relational term (Park et al. 2019, RKD; Tung & Mori 2019): KL divergence between the
      teacher's and the student's softmax over in-batch cosine similarities at
      ``temperature``, scaled by ``temperature**2`` as in Hinton et al. (2015).
    Label spaces never meet, so the teacher may come from any source task.
    """
    # The same quantity as training.normalized_feature_distance, written out so the
    # relational term below reuses the normalised features (one normalisation in the graph).
    s = F.normalize(student, dim=1)
    t = F.normalize(teacher, dim=1)
    feature = (s - t).pow(2).sum(1).mean()
    if len(s) < 3:
        return feature
    off_diagonal = ~torch.eye(len(s), dtype=torch.bool, device=s.device)
    sim_s = (s @ s.T / temperature)[off_diagonal].view(len(s), -1)
    sim_t = (t @ t.T / temperature)[off_diagonal].view(len(s), -1)
    relational = F.kl_div(F.log_softmax(sim_s, 1), F.log_softmax(sim_t, 1), log_target=True,
                          reduction="batchmean")
    return feature + temperature**2 * relational


@register_method("distill")
@dataclass
class Distill(Method):
    """Cross-task representation distillation from the frozen source-tuned teacher.

    The pretrained backbone trains on the target with cross-entropy plus a
    representation-distillation loss toward the teacher.

    Loss = CE + ``weight`` * (feature + relational distillation), see
    :func:`representation_distillation_loss`. Hinton, Vinyals & Dean (2015), "Distilling the
    Knowledge in a Neural Network"; Romero et al. (2015), "FitNets"; Park et al. (2019),
    "Relational Knowledge Distillation". The teacher's features on the target examples are
    computed once (its stem is the student's frozen stem).

    With K source-tuned teachers (a fusion group; K = 1 for a pair) the distillation term is the
    mean over teachers of each teacher's loss. No teacher's head is used (the teachers' label
    spaces are their sources', never the target's), so there are no logits to average; instead,
    up to terms constant in the student, the mean of the K relational KL terms *is* the KL toward
    the teachers' averaged softened similarity distribution (the multi-teacher averaging of
    softened outputs of You, Xu, Xu & Tao 2017, "Learning from Multiple Teacher Networks", KDD),
    and the mean of the K feature terms is the distance to the mean of the teachers' normalised
    features. With K = 1 the loss is exactly the pairwise one.
    """

    needs_source: ClassVar[bool] = True
    max_sources: ClassVar[int] = 0
    weight: float = 1.0
    temperature: float = 0.5

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.sources
        teachers = [ctx.features(s.trunk, ctx.train).to(ctx.device) for s in ctx.sources]  # K x (N, D)
        model = ctx.new_classifier()

        def extra(features: torch.Tensor, logits: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
            losses = [representation_distillation_loss(features, t[idx], self.temperature) for t in teachers]
            return self.weight * (losses[0] if len(losses) == 1 else torch.stack(losses).mean())

        return ctx.fit(model, extra_loss=extra, desc="distill")
