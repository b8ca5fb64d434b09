"""Figure 5 (demo only): recovered against injected sky per image, from the demo comparison table."""

import numpy as np

from skymatchflow.diagnostics._plotting import new_figure, save_png


def truth_figure(comparison, path, bunit="MJy/sr"):
    """Write recovered vs injected (left) and their mean-free difference per image (right) to ``path``."""
    fig, (left, right) = new_figure(2, width=5.5, height=4.5, fixed=False)  # rotated image names below
    injected, recovered = np.asarray(comparison["sky_injected"], float), np.asarray(comparison["sky"], float)
    left.scatter(injected, recovered, color="tab:blue", zorder=3)
    low, high = float(np.min([injected, recovered])), float(np.max([injected, recovered]))
    pad = 0.05 * (high - low or 1.0)
    offset = float(np.mean(recovered - injected))
    line = np.array([low - pad, high + pad])
    left.plot(line, line + offset, color="0.5", linestyle="--", label=f"injected + mean offset ({offset:+.4f})")
    left.set_xlabel(f"injected sky [{bunit}]")
    left.set_ylabel(f"recovered sky [{bunit}]")
    left.set_title("Demo: recovered against injected")
    left.legend(fontsize="small")
    diff = np.asarray(comparison["difference_mean_free"], float)
    labels = [str(image).removeprefix("jw01234001001_01101_").removesuffix("_cal") for image in comparison["image"]]
    right.bar(np.arange(len(diff)), diff, color=["tab:red" if d > 0 else "tab:blue" for d in diff])
    right.axhline(0.0, color="0.5", linewidth=0.8)
    right.set_xticks(np.arange(len(diff)), labels, rotation=60, ha="right", fontsize="small")
    right.set_ylabel(f"recovered - injected, mean removed [{bunit}]")
    right.set_title(f"Per image (rms {np.std(diff):.2g})")
    save_png(fig, path)
