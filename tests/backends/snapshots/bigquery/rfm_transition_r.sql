SELECT
  *
FROM (
  SELECT
    `t15`.`from_score`,
    `t15`.`to_score`,
    `t15`.`customers`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t15`.`customers` AS FLOAT64),
            NULLIF(
              SUM(`t15`.`customers`) OVER (
                PARTITION BY `t15`.`from_score`
                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
              ),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `share_of_from`
  FROM (
    SELECT
      `t14`.`from_score`,
      `t14`.`to_score`,
      COUNT(`t14`.`customer_id`) AS `customers`
    FROM (
      SELECT
        `t13`.`customer_id`,
        `t13`.`new`,
        `t13`.`customer_id_right`,
        `t13`.`old`,
        COALESCE(`t13`.`old`, 0) AS `from_score`,
        `t13`.`new` AS `to_score`
      FROM (
        SELECT
          `t11`.`customer_id`,
          `t11`.`new`,
          `t12`.`customer_id` AS `customer_id_right`,
          `t12`.`old`
        FROM (
          SELECT
            `t7`.`customer_id`,
            `t7`.`r_score` AS `new`
          FROM (
            SELECT
              `t5`.`customer_id`,
              `t5`.`last_order`,
              `t5`.`frequency`,
              `t5`.`monetary`,
              `t5`.`recency_days`,
              1 + IF(`t5`.`recency_days` <= 30, 1, 0) + IF(`t5`.`recency_days` <= 60, 1, 0) + IF(`t5`.`recency_days` <= 90, 1, 0) + IF(`t5`.`recency_days` <= 180, 1, 0) AS `r_score`,
              1 + IF(`t5`.`frequency` >= 2, 1, 0) + IF(`t5`.`frequency` >= 3, 1, 0) + IF(`t5`.`frequency` >= 5, 1, 0) + IF(`t5`.`frequency` >= 10, 1, 0) AS `f_score`,
              1 + IF(`t5`.`monetary` >= 10000, 1, 0) + IF(`t5`.`monetary` >= 30000, 1, 0) + IF(`t5`.`monetary` >= 50000, 1, 0) + IF(`t5`.`monetary` >= 100000, 1, 0) AS `m_score`
            FROM (
              SELECT
                `t3`.`customer_id`,
                `t3`.`last_order`,
                `t3`.`frequency`,
                `t3`.`monetary`,
                DATE_DIFF(DATE(2026, 10, 31), `t3`.`last_order`, DAY) AS `recency_days`
              FROM (
                SELECT
                  `t1`.`customer_id`,
                  MAX(`t1`.`order_date`) AS `last_order`,
                  COUNT(*) AS `frequency`,
                  SUM(`t1`.`total`) AS `monetary`
                FROM (
                  SELECT
                    `t0`.`order_id`,
                    `t0`.`customer_id`,
                    `t0`.`ordered_at`,
                    `t0`.`status`,
                    `t0`.`channel`,
                    `t0`.`subtotal`,
                    `t0`.`discount`,
                    `t0`.`shipping_fee`,
                    `t0`.`points_used`,
                    `t0`.`total`,
                    `t0`.`points_earned`,
                    `t0`.`coupon_code`,
                    `t0`.`subscription_id`,
                    `t0`.`payment_method`,
                    `t0`.`shipping_prefecture`,
                    `t0`.`is_gift`,
                    DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
                  FROM `orders` AS `t0`
                  WHERE
                    `t0`.`status` = 'completed'
                    AND `t0`.`customer_id` IS NOT NULL
                    AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
                ) AS `t1`
                GROUP BY
                  1
              ) AS `t3`
            ) AS `t5`
          ) AS `t7`
        ) AS `t11`
        LEFT OUTER JOIN (
          SELECT
            `t8`.`customer_id`,
            `t8`.`r_score` AS `old`
          FROM (
            SELECT
              `t6`.`customer_id`,
              `t6`.`last_order`,
              `t6`.`frequency`,
              `t6`.`monetary`,
              `t6`.`recency_days`,
              1 + IF(`t6`.`recency_days` <= 30, 1, 0) + IF(`t6`.`recency_days` <= 60, 1, 0) + IF(`t6`.`recency_days` <= 90, 1, 0) + IF(`t6`.`recency_days` <= 180, 1, 0) AS `r_score`,
              1 + IF(`t6`.`frequency` >= 2, 1, 0) + IF(`t6`.`frequency` >= 3, 1, 0) + IF(`t6`.`frequency` >= 5, 1, 0) + IF(`t6`.`frequency` >= 10, 1, 0) AS `f_score`,
              1 + IF(`t6`.`monetary` >= 10000, 1, 0) + IF(`t6`.`monetary` >= 30000, 1, 0) + IF(`t6`.`monetary` >= 50000, 1, 0) + IF(`t6`.`monetary` >= 100000, 1, 0) AS `m_score`
            FROM (
              SELECT
                `t4`.`customer_id`,
                `t4`.`last_order`,
                `t4`.`frequency`,
                `t4`.`monetary`,
                DATE_DIFF(DATE(2026, 5, 4), `t4`.`last_order`, DAY) AS `recency_days`
              FROM (
                SELECT
                  `t2`.`customer_id`,
                  MAX(`t2`.`order_date`) AS `last_order`,
                  COUNT(*) AS `frequency`,
                  SUM(`t2`.`total`) AS `monetary`
                FROM (
                  SELECT
                    `t0`.`order_id`,
                    `t0`.`customer_id`,
                    `t0`.`ordered_at`,
                    `t0`.`status`,
                    `t0`.`channel`,
                    `t0`.`subtotal`,
                    `t0`.`discount`,
                    `t0`.`shipping_fee`,
                    `t0`.`points_used`,
                    `t0`.`total`,
                    `t0`.`points_earned`,
                    `t0`.`coupon_code`,
                    `t0`.`subscription_id`,
                    `t0`.`payment_method`,
                    `t0`.`shipping_prefecture`,
                    `t0`.`is_gift`,
                    DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
                  FROM `orders` AS `t0`
                  WHERE
                    `t0`.`status` = 'completed'
                    AND `t0`.`customer_id` IS NOT NULL
                    AND `t0`.`ordered_at` < DATETIME('2026-05-04T15:00:00')
                ) AS `t2`
                GROUP BY
                  1
              ) AS `t4`
            ) AS `t6`
          ) AS `t8`
        ) AS `t12`
          ON `t11`.`customer_id` = `t12`.`customer_id`
      ) AS `t13`
    ) AS `t14`
    GROUP BY
      1,
      2
  ) AS `t15`
) AS `t16`
ORDER BY
  `t16`.`from_score` ASC NULLS LAST,
  `t16`.`to_score` ASC NULLS LAST
