import pytest

from conftest import login


@pytest.mark.django_db
def test_home_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Convive" in response.content.decode()


def test_command_centre_staff_land_on_the_console(client, supervisor):
    login(client, supervisor)
    response = client.get("/accounts/home/")
    assert response.status_code == 302
    assert response["Location"] == "/console/"
