"""
Learning-rate schedules
=======================

The schedulers have ``torch.optim.lr_scheduler``'s names and formulas, and are stepped once per epoch.
Each curve below is the learning rate an ``SGD(lr=0.1)`` would use at each of 30 epochs.
"""

import matplotlib.pyplot as plt

import numpynn as nn


def lrs(make_scheduler, epochs=30):
    model = nn.mlp([4, 3], seed=0)
    optimizer = nn.SGD(model, lr=0.1)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.lr)
        scheduler.step()
    return rates


schedules = {
    "StepLR(step_size=10, gamma=0.5)": lambda o: nn.StepLR(o, step_size=10, gamma=0.5),
    "CosineAnnealingLR(T_max=30)": lambda o: nn.CosineAnnealingLR(o, T_max=30),
    "LinearLR warm-up, then cosine": lambda o: nn.SequentialLR(
        o, [nn.LinearLR(o, start_factor=0.1, total_iters=5), nn.CosineAnnealingLR(o, T_max=25)], milestones=[5]),
}
fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
for label, make in schedules.items():
    ax.plot(lrs(make), ".-", label=label)
ax.set(xlabel="epoch", ylabel="learning rate")
ax.legend()
plt.show()
