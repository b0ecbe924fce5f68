"""Names, numbers and dates used as story evidence."""

from dedup.features import days_apart, event_date, extract, find_date, fold


def test_fold_strips_diacritics():
    assert fold("Trương Thị Mai") == "truong thi mai"
    assert fold("Việt Nam, Đà Nẵng") == "viet nam, da nang"


def test_names_and_numbers_across_languages():
    en = extract("HANOI - Truong Thi Mai held talks with Shii Kazuo on the 29th congress in 2024.")
    vi = extract("Thường trực Trương Thị Mai hội đàm với Shii Kazuo, Đại hội lần thứ 29 năm 2024.")
    assert {"shii", "kazuo", "truong", "mai"} <= (en.names & vi.names)
    assert {"29", "2024"} <= (en.numbers & vi.numbers)


def test_numbers_normalise_separators_and_digits():
    ev = extract("Death toll 1,234 people; ٨٣٢ victims; 7.5 magnitude")
    assert "1234" in ev.numbers
    assert "832" in ev.numbers
    assert "75" in ev.numbers


def test_dates_in_several_forms():
    assert find_date("Thứ Tư, ngày 27/12/2023 | 10:17") == (2023, 12, 27)
    assert find_date("2018-09-29T10:00:00Z") == (2018, 9, 29)
    assert find_date("September 28, 2018") == (2018, 9, 28)
    assert find_date("le 28 septembre 2018") == (2018, 9, 28)
    assert find_date("2018年9月28日") == (2018, 9, 28)
    assert find_date("Chiều 26-12, tại trụ sở", allow_day_month=True) == (None, 12, 26)
    assert find_date("Theresa May 12 MPs") is None
    assert find_date("up 3.5% on the year") is None


def test_event_date_prefers_published_then_header_then_lead():
    assert event_date("2020-01-02", "28/03/2023", "") == (2020, 1, 2)
    assert event_date(None, "Báo QĐND 28/03/2023", "Chiều 26-12") == (2023, 3, 28)
    assert event_date(None, "", "Chiều 26-12, Tổng Bí thư") == (None, 12, 26)


def test_days_apart_with_and_without_years():
    assert days_apart((2023, 12, 27), (None, 12, 26)) == 1
    assert days_apart((2023, 12, 31), (None, 1, 2)) == 2  # across the new year
    assert days_apart((2023, 3, 28), (2023, 12, 26)) == 273
