"""Local settings overlay for photo storage in S3-compatible object storage.

chengguan's settings read FILE_STORAGE from the environment, but django-storages takes the
bucket, endpoint and region from Django settings, not from the environment. Until the project
reads them itself, this overlay does. Install it next to the environment file and point
DJANGO_SETTINGS_MODULE at it (see docs/operations.md, "Object storage").

对象存储的本地设置覆盖：django-storages 从 Django 设置（而不是环境变量）读取桶名、端点和区域，
本文件把这些环境变量转成设置。用法见 docs/operations.md “对象存储”。

    install -m 640 -g chengguan deploy/chengguan_local.py /etc/chengguan/chengguan_local.py
    # in /etc/chengguan/chengguan.env:
    DJANGO_SETTINGS_MODULE=chengguan_local
    PYTHONPATH=/etc/chengguan
"""

import os

from chengguan.settings import *  # noqa: F403

AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None  # e.g. https://oss-cn-hangzhou.aliyuncs.com
AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
AWS_S3_ADDRESSING_STYLE = os.environ.get("AWS_S3_ADDRESSING_STYLE") or None  # "virtual" or "path"
AWS_LOCATION = os.environ.get("AWS_LOCATION", "")  # key prefix inside the bucket
# Photos stay private: the API reads them and checks who may see each one.
# 照片保持私有：由接口读取并检查权限。
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
AWS_S3_FILE_OVERWRITE = False
