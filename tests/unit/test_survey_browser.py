"""The survey in a real browser: headless Chromium from Debian's package driven by Selenium, through
consent, keyboard and mouse answers, a time-out, withdrawal and submission; then the database."""

from __future__ import annotations

import shutil

import pytest
from survey_support import SurveyServer, make_bundle, require, wait_for

from maskaudit.survey.store import open_store

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def browser():
    require("Chromium (Debian packages chromium, chromium-driver)", bool(CHROMIUM and DRIVER))
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1200,900",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def consent(driver, url):
    from selenium.webdriver.common.by import By

    driver.get(url + "/")
    driver.find_element(By.NAME, "adult").click()
    driver.find_element(By.NAME, "consent").click()
    driver.find_element(By.ID, "start").click()
    assert wait_for(lambda: "Trial 1 of" in driver.page_source)


def trial_number(driver) -> int:
    from selenium.webdriver.common.by import By

    return int(driver.find_element(By.ID, "progress").text.split()[1])


def test_consent_keyboard_mouse_timeout_withdrawal_and_submission(browser, tmp_path):
    from selenium.webdriver.common.by import By

    bundle, key = make_bundle(tmp_path, trials=3)
    db = f"sqlite:///{tmp_path}/survey.sqlite"
    with SurveyServer(bundle, db, "--time-limits", "2") as srv:
        consent(browser, srv.url)
        assert browser.find_element(By.ID, "timer").text in ("1", "2")
        images = browser.find_elements(By.TAG_NAME, "img")
        assert len(images) == 5 and all(
            browser.execute_script("return arguments[0].naturalWidth", i) == 64 for i in images
        )
        browser.find_element(By.TAG_NAME, "body").send_keys("2")  # keyboard: the second face
        assert wait_for(lambda: trial_number(browser) == 2)
        browser.find_element(By.ID, "choice-2").click()  # mouse: the third face
        assert wait_for(lambda: trial_number(browser) == 3)
        # the third trial is left alone: the 2 s limit submits a time-out and the survey is done
        assert wait_for(lambda: "Your answers are saved" in browser.page_source, timeout=10)
        code = browser.find_element(By.ID, "code").text

        browser.delete_all_cookies()  # a second participant, who withdraws after one answer
        consent(browser, srv.url)
        browser.find_element(By.TAG_NAME, "body").send_keys("n")  # "none of these"
        assert wait_for(lambda: trial_number(browser) == 2)
        store = open_store(db)
        assert store.counts()["responses"] == 4
        browser.find_element(By.ID, "withdraw-link").click()
        browser.find_element(By.ID, "confirm-withdraw").click()
        assert wait_for(
            lambda: "You have withdrawn. 1 answer(s) were deleted." in browser.page_source
        )

        browser.get(srv.url + "/image/../trials.json")
        assert "trials" not in browser.page_source.lower().replace("not found", "")
    table = store.export()
    assert store.counts() == {"participants": 1, "complete": 1, "responses": 3, "withdrawals": 1}
    assert store.participant(code)["status"] == "complete"
    assert list(table.choice) == ["1", "2", ""] and list(table.timed_out) == [
        "false",
        "false",
        "true",
    ]
    assert set(table.condition) == {"2s"} and int(table.server_ms.iloc[2]) >= 1900
    assert all(int(v) > 0 for v in table.rt_ms.iloc[:2])
