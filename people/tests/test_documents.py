import pytest
from django.core.exceptions import ValidationError

from people.contact import normalize_mobile
from people.documents import normalize_document


def error_for(doc_type: str, number: str, country: str = "") -> str:
    with pytest.raises(ValidationError) as exc:
        normalize_document(doc_type, number, country)
    messages = exc.value.message_dict
    return " ".join(m for msgs in messages.values() for m in msgs)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("10117410", "10117410"),
        ("10117410-2", "10117410"),  # with its numeric check digit
        ("10117410G", "10117410"),  # with its letter check digit
        (" 1011 7410 ", "10117410"),
    ],
)
def test_dni_accepts_eight_digits_and_a_correct_check_digit(raw, canonical):
    document = normalize_document("DNI", raw)
    assert document.number == canonical
    assert document.issuing_country == "PE"
    assert document.username == f"DNI-{canonical}"


def test_dni_with_wrong_length_says_it_needs_eight_digits():
    assert error_for("DNI", "1234567") == "El DNI debe tener 8 dígitos."
    assert error_for("DNI", "1234567890") == "El DNI debe tener 8 dígitos."


def test_dni_with_wrong_check_digit_says_so():
    assert error_for("DNI", "10117410-5") == "El dígito de verificación del DNI no es correcto."


def test_dni_with_letters_is_refused():
    assert error_for("DNI", "1011741A") == "El DNI solo puede contener números."


@pytest.mark.parametrize(("doc_type", "label"), [("CE", "Carné de Extranjería"), ("CPP", "CPP")])
def test_nine_digit_cards_are_zero_padded(doc_type, label):
    assert normalize_document(doc_type, "456789").number == "000456789"
    assert normalize_document(doc_type, "001-234-567").number == "001234567"
    assert error_for(doc_type, "12345") == f"El número de {label} debe tener entre 6 y 9 dígitos."
    assert error_for(doc_type, "1234567890") == (
        f"El número de {label} debe tener entre 6 y 9 dígitos."
    )
    assert error_for(doc_type, "12A456") == f"El número de {label} solo puede contener números."


def test_ptp_follows_the_same_rule():
    assert normalize_document("PTP", "987654321").number == "987654321"
    assert "PTP" in error_for("PTP", "98")


def test_passport_needs_its_issuing_country():
    assert error_for("PAS", "X1234567") == "Indique el país que emitió el documento."
    document = normalize_document("PAS", "x12-34567", "ve")
    assert (document.number, document.issuing_country) == ("X1234567", "VE")


def test_passport_format():
    assert "letras y números" in error_for("PAS", "X12#4567", "VE")
    assert "entre 5 y 15" in error_for("PAS", "X12", "VE")


def test_other_document_format():
    assert normalize_document("OTRO", "ab-123", "CO").number == "AB123"
    assert "entre 3 y 20" in error_for("OTRO", "A", "CO")


def test_unknown_type_and_empty_number():
    assert error_for("XYZ", "123") == "Elija un tipo de documento válido."
    assert error_for("DNI", "  ") == "Ingrese el número de documento."


def test_mobile_numbers():
    assert normalize_mobile("987 654 321") == "+51987654321"
    assert normalize_mobile("+58 412 1234567") == "+584121234567"
    assert normalize_mobile("") == ""
    with pytest.raises(ValidationError, match="no un teléfono fijo"):
        normalize_mobile("01 4171000")  # a Lima landline
    with pytest.raises(ValidationError, match="no es válido"):
        normalize_mobile("12345")
    with pytest.raises(ValidationError, match="solo con números"):
        normalize_mobile("hola")


def test_full_width_digits_fold_to_the_same_document():
    full_width = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))
    assert normalize_document("DNI", "10117410".translate(full_width)).number == "10117410"
    assert normalize_document("CE", "456789".translate(full_width)).number == "000456789"


def test_digits_of_other_scripts_are_refused():
    arabic_indic = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))
    assert error_for("DNI", "45678912".translate(arabic_indic)) == (
        "El DNI solo puede contener números."
    )
    assert "solo puede contener números" in error_for("CE", "456789".translate(arabic_indic))
    greek_alpha_beta = "\u0391\u0392"
    assert "letras y números" in error_for("PAS", greek_alpha_beta + "123456", "GR")
