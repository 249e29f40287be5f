app_name = "domains"

urlpatterns = []
