"""Korean translations of operating and observing (issue 23): health, readiness, metrics, accounts, serve."""

KO = {
    "the metrics are served to this machine only (loopback) or with the metrics token "
    "(environment variable {env}); {address} sent neither":
        "지표는 이 컴퓨터(루프백)에만 제공되거나 지표 토큰(환경 변수 {env})이 있어야 제공됩니다. "
        "{address}은(는) 둘 다 해당하지 않습니다",
    "not ready: the catalog does not answer ({detail})":
        "준비되지 않았습니다: 카탈로그가 응답하지 않습니다 ({detail})",
    "not ready: the primary storage location {location} does not answer ({detail})":
        "준비되지 않았습니다: 기본 저장 위치 {location}이(가) 응답하지 않습니다 ({detail})",
    "not ready: the custody ledger's identity does not match the catalog's ({detail}); "
    "see `longwatch custody verify`":
        "준비되지 않았습니다: 관리 연속성 원장의 식별 정보가 카탈로그의 것과 다릅니다 ({detail}). "
        "`longwatch custody verify`를 확인하십시오",
    "this password is among the most common ones and would be guessed first: choose another":
        "이 비밀번호는 가장 흔한 비밀번호에 속하여 가장 먼저 추측됩니다. 다른 비밀번호를 정하십시오",
    "Threads per worker process: each serves one request (a long download, a slow client).":
        "작업 프로세스당 스레드 수: 스레드마다 요청 하나(긴 다운로드, 느린 클라이언트)를 처리합니다.",
}
