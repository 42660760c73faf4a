"""Korean translations of the install slice: the extras (see scripts/ko_messages.py for how the files merge)."""

KO = {
    "this needs the Python module {module}, which is not installed; it comes with the extra {extra}: "
    "`pip install 'longwatch[{extra}]'` (`make demo` and `make test` install every extra)":
        "이 기능에는 Python 모듈 {module}이(가) 필요하지만 설치되어 있지 않습니다. 이 모듈은 추가 구성 요소 {extra}에 "
        "포함되어 있습니다: `pip install 'longwatch[{extra}]'` (`make demo`와 `make test`는 모든 추가 구성 요소를 "
        "설치합니다)",
}
