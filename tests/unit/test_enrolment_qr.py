"""The enrolment QR the console prints reads back on the device as the same code and hub."""

from sync.enrolment import enrolment_qr, read_enrolment_qr


def test_an_enrolment_qr_reads_back_as_its_code_and_hub():
    assert read_enrolment_qr(enrolment_qr("ABCD-EFGH", "https://hub.example:8700/")) == ("ABCD-EFGH", "https://hub.example:8700")
    assert read_enrolment_qr(" backroom-enrol:ABCD:http://10.0.0.5:8700\n") == ("ABCD", "http://10.0.0.5:8700")


def test_anything_else_is_not_an_enrolment_qr():
    for text in ("ABCD-EFGH", "BACKROOM-ENROL:", "BACKROOM-ENROL:ABCD:ftp://x", "BACKROOM-ENROL::https://hub"):
        assert read_enrolment_qr(text) is None
