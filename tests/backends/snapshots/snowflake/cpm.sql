SELECT
  *
FROM (
  SELECT
    "t2"."group_order",
    "t2"."cpm_group",
    "t2"."cpm_status",
    "t2"."cpm_label",
    COALESCE("t9"."customers", 0) AS "customers",
    COALESCE("t9"."revenue", 0) AS "revenue"
  FROM "memtable_1" AS "t2"
  LEFT OUTER JOIN (
    SELECT
      "t7"."cpm_group",
      "t7"."cpm_status",
      COUNT("t7"."customer_id") AS "customers",
      SUM("t7"."cumulative") AS "revenue"
    FROM (
      SELECT
        "t6"."customer_id",
        "t6"."first_order",
        "t6"."last_order",
        "t6"."orders",
        "t6"."cumulative",
        "t6"."tenure_days",
        "t6"."days_since_last",
        "t6"."cpm_group",
        "t6"."cpm_status",
        CONCAT(
          CONCAT(
            CASE "t6"."cpm_group"
              WHEN 'first'
              THEN '初回'
              WHEN 'toddler'
              THEN 'よちよち'
              WHEN 'steady'
              THEN 'コツコツ'
              WHEN 'trendy'
              THEN '流行'
              WHEN 'loyal'
              THEN '優良'
              ELSE "t6"."cpm_group"
            END,
            CASE "t6"."cpm_status"
              WHEN 'active'
              THEN '現役'
              WHEN 'lapsed'
              THEN '離脱'
              ELSE "t6"."cpm_status"
            END
          ),
          '客'
        ) AS "cpm_label"
      FROM (
        SELECT
          "t5"."customer_id",
          "t5"."first_order",
          "t5"."last_order",
          "t5"."orders",
          "t5"."cumulative",
          "t5"."tenure_days",
          "t5"."days_since_last",
          CASE
            WHEN "t5"."orders" = 1
            THEN 'first'
            WHEN "t5"."tenure_days" < 90
            THEN 'toddler'
            WHEN "t5"."cumulative" < 70000
            THEN 'steady'
            WHEN "t5"."tenure_days" < 210
            THEN 'trendy'
            ELSE 'loyal'
          END AS "cpm_group",
          IFF("t5"."days_since_last" >= 240, 'lapsed', 'active') AS "cpm_status"
        FROM (
          SELECT
            "t4"."customer_id",
            "t4"."first_order",
            "t4"."last_order",
            "t4"."orders",
            "t4"."cumulative",
            DATEDIFF(DAY, "t4"."first_order", "t4"."last_order") AS "tenure_days",
            DATEDIFF(DAY, "t4"."last_order", DATE_FROM_PARTS(2026, 10, 31)) AS "days_since_last"
          FROM (
            SELECT
              "t3"."customer_id",
              MIN("t3"."order_date") AS "first_order",
              MAX("t3"."order_date") AS "last_order",
              COUNT(*) AS "orders",
              SUM("t3"."total") AS "cumulative"
            FROM (
              SELECT
                "t1"."order_id",
                "t1"."customer_id",
                "t1"."ordered_at",
                "t1"."status",
                "t1"."channel",
                "t1"."subtotal",
                "t1"."discount",
                "t1"."shipping_fee",
                "t1"."points_used",
                "t1"."total",
                "t1"."points_earned",
                "t1"."coupon_code",
                "t1"."subscription_id",
                "t1"."payment_method",
                "t1"."shipping_prefecture",
                "t1"."is_gift",
                TO_DATE(DATEADD(HOUR, '9', "t1"."ordered_at")) AS "order_date"
              FROM "orders" AS "t1"
              WHERE
                "t1"."status" = 'completed'
                AND "t1"."customer_id" IS NOT NULL
                AND "t1"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
            ) AS "t3"
            GROUP BY
              1
          ) AS "t4"
        ) AS "t5"
      ) AS "t6"
    ) AS "t7"
    GROUP BY
      1,
      2
  ) AS "t9"
    ON "t2"."cpm_group" = "t9"."cpm_group" AND "t2"."cpm_status" = "t9"."cpm_status"
) AS "t10"
ORDER BY
  "t10"."group_order" ASC,
  "t10"."cpm_status" ASC
