"""Korean translations of the REST API's messages (issue 22: /api/v1, token scopes)."""

KO = {
    "this API token's scopes ({scopes}) do not allow this ({permission}): create a token with the "
    "scope {scope} (`longwatch token create USER --scope {scope}`)":
        "이 API 토큰의 범위({scopes})로는 이 작업({permission})을 할 수 없습니다: 범위 {scope}를 가진 토큰을 "
        "만드십시오 (`longwatch token create USER --scope {scope}`)",
    "there is no token scope {scope!r}; choose among: {scopes}":
        "토큰 범위 {scope!r}는 없습니다. 다음 중에서 고르십시오: {scopes}",
    "the request body is invalid: {detail}":
        "요청 본문이 올바르지 않습니다: {detail}",
    "What the token may do (repeat for several; default all): it never does more than USERNAME's role allows.":
        "토큰이 할 수 있는 일입니다 (여러 개면 반복하고, 기본값은 all입니다). USERNAME의 역할이 허용하는 것보다 더 많은 일은 "
        "결코 하지 않습니다.",
}
