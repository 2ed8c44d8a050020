"""The URL map of a development server (DEBUG on when the API was built): the API with its
/api/test/* router (api.main.build_api). A test of those endpoints runs under it with
`@pytest.mark.urls("tests.development_urls")`; the suite's own map (DEBUG off) has none."""

from api.main import build_api
from portal import urls

urlpatterns = urls.patterns(build_api(development=True))

handler400 = urls.handler400
handler404 = urls.handler404
handler500 = urls.handler500
