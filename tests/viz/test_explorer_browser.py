"""The explorer page in a real browser: headless Chromium through Selenium, opened from disk.

Skipped where selenium, chromium, chromedriver or graphviz's ``dot`` is missing.
``python tests/viz/test_explorer_browser.py`` writes the README's screenshot
(demos/gallery/explorer.png).
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd import Tensor, Value
from autograd.viz import save_html, show
from autograd.viz.core import fmt, graph_nodes, magnitude
from autograd.viz.draw import SCALE
from autograd.viz.render import find_program

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(find_program() is None, reason="neither dot nor graphviz-pure is installed")


def start_browser(width: int = 1400, height: int = 900):
    webdriver = pytest.importorskip("selenium.webdriver")
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("no chromium and chromedriver on PATH")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}"):
        options.add_argument(argument)
    try:
        return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except Exception as error:  # a driver that does not match the browser, no display libraries ...
        pytest.skip(f"chromium did not start: {error}")


@pytest.fixture(scope="module")
def browser():
    driver = start_browser()
    yield driver
    driver.quit()


def WebDriverWait(browser, seconds: float):  # noqa: N802 (selenium's name)
    from selenium.webdriver.support.ui import WebDriverWait as wait

    return wait(browser, seconds)


def open_page(browser, path: Path) -> None:
    browser.get(path.resolve().as_uri())
    assert browser.execute_script("return document.body.dataset.ready") == "1"


def click(browser, selector: str) -> None:
    """A real mouse click on the element's centre (so the page's own handlers decide what it hits)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    element = browser.find_element(By.CSS_SELECTOR, selector)
    browser.execute_script("explorer.centre(arguments[0], true)", element)  # in view for the mouse
    ActionChains(browser).move_to_element(element).click().perform()


def text(browser, selector: str) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, selector).text


def svg_text(browser, selector: str) -> str:
    """The text inside a graph node, visible in the view or not."""
    return browser.execute_script(f"return document.querySelector('{selector}').textContent")


def marked(browser, css_class: str) -> list[str]:
    """The data-node of every graph node carrying ``css_class``."""
    return browser.execute_script(
        f"return [...document.querySelectorAll('g.{css_class}')].map(e => e.dataset.node)")


def key_of(root, node) -> str:
    return f"n{[id(n) for n in graph_nodes(root)].index(id(node))}"


def neuron() -> tuple[Value, dict]:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, {"x1": x1, "w1": w1, "b": b, "n": n}


def tensor_mlp():
    nn.manual_seed(0)
    model = nn.MLP(2, [16, 16, 1])
    X, y = nn.data.make_moons(n_samples=8, noise=0.2, seed=0)
    loss = nn.functional.binary_cross_entropy_with_logits(model(Tensor(X[:4])), y[:4].reshape(-1, 1))
    loss.backward()
    return model, loss


def test_clicking_a_value_shows_its_data_gradient_and_rule(browser, tmp_path):
    o, named = neuron()
    open_page(browser, save_html(o, tmp_path / "neuron.html"))
    click(browser, f'[data-node="{key_of(o, named["n"])}"]')
    assert text(browser, "#details .name") == "n"
    assert text(browser, '#details [data-field="data"]') == fmt(named["n"].data)
    assert text(browser, '#details [data-field="grad"]') == fmt(named["n"].grad)
    assert "d/db = g" in text(browser, '#details [data-field="rule"]')  # Add's rule, in the inputs' names


def test_a_hooked_node_says_so_in_its_details(browser, tmp_path):
    o, named = neuron()
    handle = named["n"].register_hook(lambda g: g)
    try:
        open_page(browser, save_html(o, tmp_path / "hooked.html"))
    finally:
        handle.remove()
    click(browser, f'[data-node="{key_of(o, named["n"])}"]')
    assert "hooks <lambda> (run on its gradient in backward)" in text(browser, "#details")
    browser.save_screenshot(str(tmp_path / "hooked.png"))
    click(browser, f'[data-node="{key_of(o, named["b"])}"]')
    assert "hooks" not in text(browser, "#details")


def test_clicking_a_tensor_parameter_shows_statistics_and_its_path_to_the_loss(browser, tmp_path):
    model, loss = tensor_mlp()
    open_page(browser, save_html(loss, tmp_path / "mlp.html", params=model))
    weight = dict(model.named_parameters())["2.weight"]
    click(browser, f'[data-node="{key_of(loss, weight)}"]')
    data, grad = weight.data.astype(np.float64), weight.grad.astype(np.float64)
    for stat, expected in (("min", data.min()), ("mean", data.mean()), ("max", data.max()),
                           ("norm", magnitude(data))):
        assert text(browser, f'#details [data-field="data"] [data-stat="{stat}"]') == fmt(expected)
    assert text(browser, '#details [data-field="grad"] [data-stat="norm"]') == fmt(magnitude(grad))
    assert text(browser, "#details .name") == "2.weight"
    on_path = browser.execute_script(
        "return [...document.querySelectorAll('g.node.on-path')].map(e => e.dataset.node)")
    assert "n0" in on_path and key_of(loss, weight) in on_path  # the root and the parameter
    assert key_of(loss, dict(model.named_parameters())["0.weight"]) not in on_path


def test_search_highlights_every_match_and_counts_them(browser, tmp_path):
    model, loss = tensor_mlp()
    open_page(browser, save_html(loss, tmp_path / "mlp.html", params=model))
    box = browser.find_element("id", "search")
    box.clear()
    box.send_keys("weight")
    matched = marked(browser, "match")
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    assert sorted(matched) == sorted(key_of(loss, w) for w in weights)
    assert text(browser, "#search-count") == f"1 of {len(weights)}"


def test_modules_fold_into_one_node_and_unfold(browser, tmp_path):
    model, loss = tensor_mlp()
    open_page(browser, save_html(loss, tmp_path / "mlp.html", params=model))
    member = f'[data-node="{key_of(loss, dict(model.named_parameters())["0.weight"])}"]'
    browser.find_element("id", "fold-all").click()
    assert not browser.find_element("css selector", member).is_displayed()
    folds = marked(browser, "fold")
    assert sorted(folds) == ["fold:0", "fold:2", "fold:4"]
    click(browser, '[data-node="fold:0"]')
    browser.find_element("id", "unfold-button").click()
    assert browser.find_element("css selector", member).is_displayed()
    assert len(browser.find_elements("css selector", "g.fold")) == 2


def test_stepping_through_the_backward_pass_with_buttons_and_arrow_keys(browser, tmp_path):
    o, named = neuron()
    open_page(browser, save_html(o, tmp_path / "neuron.html"))
    browser.find_element("id", "step-first").click()
    assert text(browser, "#step-counter") == "Start (of 5 steps)"
    leaf = f'[data-node="{key_of(o, named["w1"])}"]'
    assert "grad ?" in svg_text(browser, leaf)
    browser.find_element("id", "step-next").click()
    assert text(browser, "#step-counter") == "Step 1 of 5"
    focus = marked(browser, "focus")
    assert sorted(focus) == ["n0", "n0.op"]  # o = tanh(n) is visited first
    receivers = marked(browser, "receiver")
    assert receivers == [key_of(o, named["n"])]
    assert f"grad {fmt(named['n'].grad)}" in svg_text(browser, f'[data-node="{key_of(o, named["n"])}"]')
    from selenium.webdriver.common.keys import Keys

    body = browser.find_element("css selector", "body")
    for _ in range(5):
        body.send_keys(Keys.ARROW_RIGHT)
    assert text(browser, "#step-counter") == "Done (5 steps)"
    assert f"grad {fmt(named['w1'].grad)}" in svg_text(browser, leaf)
    body.send_keys(Keys.ARROW_LEFT)
    assert text(browser, "#step-counter") == "Step 5 of 5"


def test_zoom_buttons_and_fit_change_the_view(browser, tmp_path):
    o, _ = neuron()
    open_page(browser, save_html(o, tmp_path / "neuron.html"))
    def box() -> str:
        return browser.execute_script("return document.querySelector('#canvas svg').getAttribute('viewBox')")

    browser.find_element("id", "fit").click()
    fitted = box()
    browser.find_element("id", "zoom-in").click()
    zoomed = [float(v) for v in box().split()]
    assert zoomed[2] < [float(v) for v in fitted.split()][2]
    browser.find_element("id", "fit").click()
    assert box() == fitted


def test_a_flagged_node_is_marked_with_its_path(browser, tmp_path):
    o, named = neuron()
    open_page(browser, save_html(o, tmp_path / "flag.html", highlight=named["w1"]))
    flagged = marked(browser, "flagged")
    assert key_of(o, named["w1"]) in flagged and "n0" in flagged
    assert "w1" in text(browser, "#flagged")


def test_a_large_graph_opens_folded_and_a_module_opens_on_demand(browser, tmp_path):
    nn.manual_seed(0)
    model = nn.scalar.MLP(2, [6, 6, 1])
    rows = np.random.default_rng(0).normal(size=(30, 2))
    loss = sum(((model(list(map(float, r))) - 1.0) ** 2 for r in rows), Value(0.0))
    loss.backward()
    open_page(browser, save_html(loss, tmp_path / "big.html", params=model, max_nodes=60))
    click(browser, '[data-node="group:layers.1.neurons.2"]')
    browser.find_element("id", "unfold-button").click()
    assert "layers.1.neurons.2" in text(browser, "#crumbs")
    weight = model.layers[1].neurons[2].w[0]
    click(browser, f'[data-node="{key_of(loss, weight)}"]')
    assert text(browser, '#details [data-field="data"]') == fmt(weight.data)
    browser.find_element("css selector", '#crumbs [data-view="main"]').click()
    assert browser.find_elements("css selector", '[data-node="group:layers.1.neurons.2"]')


def test_gradient_colours_turn_on_and_off(browser, tmp_path):
    model, loss = tensor_mlp()
    open_page(browser, save_html(loss, tmp_path / "mlp.html", params=model))
    weight = f'[data-node="{key_of(loss, dict(model.named_parameters())["2.weight"])}"]'
    fill = f"return document.querySelector('{weight} polygon').getAttribute('fill')"
    plain = browser.execute_script(fill)
    browser.find_element("id", "colour").click()
    coloured = browser.execute_script(fill)
    assert coloured != plain and coloured in SCALE
    browser.find_element("id", "colour").click()
    assert browser.execute_script(fill) == plain


def test_two_pages_inline_in_one_notebook_do_not_clash(browser, tmp_path):
    o, _ = neuron()
    model, loss = tensor_mlp()
    notebook = tmp_path / "notebook.html"
    cells = show(o)._repr_html_() + show(loss, params=model)._repr_html_()
    notebook.write_text(f"<html><body>{cells}</body></html>")
    browser.get(notebook.as_uri())
    frames = browser.find_elements("tag name", "iframe")
    assert len(frames) == 2
    for frame, name in zip(frames, ("o", "t6"), strict=True):
        browser.switch_to.frame(frame)
        WebDriverWait(browser, 20).until(lambda b: b.execute_script("return document.body.dataset.ready"))
        assert text(browser, "#title") == f"Graph of {name}"
        assert browser.find_elements("css selector", '[data-node="n0"]')
        browser.switch_to.default_content()


def screenshot(path: Path) -> Path:
    """The README's picture: the Tensor MLP's page with a weight clicked and its path lit."""
    import tempfile

    model, loss = tensor_mlp()
    driver = start_browser(1600, 720)
    try:
        with tempfile.TemporaryDirectory() as folder:
            page = save_html(loss, Path(folder) / "mlp.html", params=model, color_by_grad=True,
                             title="nn.MLP(2, [16, 16, 1]): the loss of a batch of 4 moons")
            open_page(driver, page)
            weight = f'[data-node="{key_of(loss, dict(model.named_parameters())["2.weight"])}"]'
            click(driver, weight)
            driver.execute_script("explorer.fit(); explorer.zoom(0.62);"
                                  f"explorer.centre(document.querySelector('{weight}'), false)")
            driver.save_screenshot(str(path))
    finally:
        driver.quit()
    return path


if __name__ == "__main__":
    print(screenshot(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("demos/gallery/explorer.png")))
