"""10_web_app.py's page in a real browser (headless Chromium): draw a digit, read the answer, screenshot.

tests/test_web_app.py drives the page with these functions; run as a command, it makes the
screenshot README shows (best with the real models trained by 04, 07 and 09):

  python 10_web_app.py &
  python bench/web_app_screenshot.py --out docs/web_app.png [--photo my_cat.jpg] [--poem 春]

Needs Debian's chromium + chromium-driver (apt-get install -y chromium chromium-driver; for
Chinese on the screenshot also fonts-noto-cjk) and Selenium (pip install -r requirements-dev.txt).
"""
import argparse
import shutil
from pathlib import Path

INSTALL = ("apt-get install -y chromium chromium-driver（Debian/Ubuntu，root）; "
           "pip install -r requirements-dev.txt (selenium)")


def open_browser(width=1100, height=1700):
    """Headless Chromium under Selenium, the system's browser and driver (nothing downloaded)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise RuntimeError(f"没有 selenium / selenium is missing: {INSTALL}") from None
    browser = next(filter(None, map(shutil.which, ["chromium", "chromium-browser", "google-chrome"])), None)
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        raise RuntimeError(f"没有 Chromium 或 chromedriver / Chromium or chromedriver is missing: {INSTALL}")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}", "--lang=zh-CN"):  # no-sandbox: CI runs as root
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def wait_for(driver, script, timeout=30):
    """Wait until a JavaScript expression on the page is truthy; return its value."""
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(f"return {script}"))


def draw_seven(driver):
    """A "7" stroke on the pad with the mouse (pointer events, as a person draws); the page's answer text."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    wait_for(driver, "document.querySelector('#digit .note').textContent")  # status has arrived
    pad = driver.find_element(By.ID, "pad")
    strokes = ActionChains(driver).move_to_element_with_offset(pad, -60, -80).click_and_hold()
    for dx, dy in [(30, 0), (30, 0), (30, 0), (30, 0), (-15, 40), (-15, 40), (-15, 40), (-15, 40)]:
        strokes.move_by_offset(dx, dy)
    strokes.release().perform()
    wait_for(driver, "document.getElementById('digit-answer').dataset.digit")
    return driver.find_element(By.ID, "digit-answer").text


def upload_photo(driver, path):
    """Choose a photo in the photo part; the top-3 lines the page shows."""
    from selenium.webdriver.common.by import By
    driver.find_element(By.ID, "photo-file").send_keys(str(Path(path).resolve()))
    wait_for(driver, "document.querySelectorAll('#top3 li').length === 3")
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#top3 li")]


def write_poem(driver, start, theme=""):
    """Ask for a poem that starts with `start` (on a `theme`, if given); the poem the page shows."""
    from selenium.webdriver.common.by import By
    for name, text in (("start", start), ("theme", theme)):
        field = driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(text)
    driver.find_element(By.CSS_SELECTOR, "#poem-form button").click()
    wait_for(driver, "document.getElementById('poem-text').textContent")
    return driver.find_element(By.ID, "poem-text").text


def predict_membership(driver, checked=()):
    """Tick the named yes/no fields of the membership form, press Predict; the lines the page shows."""
    from selenium.webdriver.common.by import By
    wait_for(driver, "document.querySelectorAll('#membership-fields input').length")
    for name in checked:
        box = driver.find_element(By.CSS_SELECTOR, f"#membership-fields input[name='{name}']")
        if not box.is_selected():
            box.click()
    driver.find_element(By.CSS_SELECTOR, "#membership-form button").click()
    wait_for(driver, "document.querySelectorAll('#membership-classes li').length")
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#membership-classes li")] + [
        driver.find_element(By.ID, "membership-answer").text]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/", help="the running app")
    parser.add_argument("--out", default="docs/web_app.png", help="where the screenshot goes")
    parser.add_argument("--photo", help="a photo to upload to the photo part")
    parser.add_argument("--poem", help="first character of a poem to write")
    args = parser.parse_args()
    driver = open_browser()
    try:
        driver.get(args.url)
        print(draw_seven(driver))
        if args.photo:
            print(upload_photo(driver, args.photo))
        if args.poem:
            print(write_poem(driver, args.poem))
        if driver.execute_script("return document.querySelectorAll('#membership-fields input').length"):
            print(predict_membership(driver, checked=["gift_vip"]))
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        driver.set_window_size(1100, driver.execute_script("return document.documentElement.scrollHeight") + 160)
        driver.execute_script("window.scrollTo(0, 0)")  # the whole page, from its top
        driver.save_screenshot(args.out)
        print(f"saved {args.out}")
    finally:
        driver.quit()
