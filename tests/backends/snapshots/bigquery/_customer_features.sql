WITH `t12` AS (
  SELECT
    `t3`.`order_id`,
    `t3`.`customer_id`,
    `t3`.`ordered_at`,
    `t3`.`status`,
    `t3`.`channel`,
    `t3`.`subtotal`,
    `t3`.`discount`,
    `t3`.`shipping_fee`,
    `t3`.`points_used`,
    `t3`.`total`,
    `t3`.`points_earned`,
    `t3`.`coupon_code`,
    `t3`.`subscription_id`,
    `t3`.`payment_method`,
    `t3`.`shipping_prefecture`,
    `t3`.`is_gift`,
    DATE(TIMESTAMP_ADD(`t3`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
  FROM `orders` AS `t3`
  WHERE
    `t3`.`status` = 'completed'
    AND `t3`.`customer_id` IS NOT NULL
    AND `t3`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
), `t57` AS (
  SELECT
    `t44`.`order_id`,
    `t44`.`line_no`,
    `t44`.`product_id`,
    `t44`.`product_name`,
    `t44`.`category`,
    `t44`.`quantity`,
    `t44`.`unit_price`,
    `t44`.`amount`,
    `t44`.`customer_id`,
    `t44`.`order_date`,
    `t44`.`product_id_right`,
    `t44`.`p_category`,
    `t44`.`is_gift`,
    `t44`.`launched_on`,
    `t44`.`is_premium`,
    COALESCE(COALESCE(`t44`.`p_category`, `t44`.`category`), '(unknown)') AS `cat`,
    IF(COALESCE(`t44`.`is_gift`, FALSE), `t44`.`quantity`, 0) AS `gift`,
    IF(
      (
        `t44`.`launched_on` IS NOT NULL
      )
      AND (
        DATE_DIFF(`t44`.`order_date`, `t44`.`launched_on`, DAY) <= 60
      )
      AND (
        DATE_DIFF(`t44`.`order_date`, `t44`.`launched_on`, DAY) >= 0
      ),
      `t44`.`quantity`,
      0
    ) AS `novel`,
    IF(COALESCE(`t44`.`is_premium`, FALSE), `t44`.`quantity`, 0) AS `premium`
  FROM (
    SELECT
      `t8`.`order_id`,
      `t8`.`line_no`,
      `t8`.`product_id`,
      `t8`.`product_name`,
      `t8`.`category`,
      `t8`.`quantity`,
      `t8`.`unit_price`,
      `t8`.`amount`,
      `t21`.`customer_id`,
      `t21`.`order_date`,
      `t32`.`product_id` AS `product_id_right`,
      `t32`.`p_category`,
      `t32`.`is_gift`,
      `t32`.`launched_on`,
      `t32`.`is_premium`
    FROM `order_items` AS `t8`
    INNER JOIN (
      SELECT
        `t3`.`order_id`,
        `t3`.`customer_id`,
        DATE(TIMESTAMP_ADD(`t3`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
      FROM `orders` AS `t3`
      WHERE
        `t3`.`status` = 'completed'
        AND `t3`.`customer_id` IS NOT NULL
        AND DATE(TIMESTAMP_ADD(`t3`.`ordered_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
    ) AS `t21`
      ON `t8`.`order_id` = `t21`.`order_id`
    LEFT OUTER JOIN (
      SELECT
        `t10`.`product_id`,
        `t10`.`category` AS `p_category`,
        `t10`.`is_gift`,
        `t10`.`launched_on`,
        `t10`.`price` >= (
          `t13`.`category_avg_price` * 1.3
        ) AS `is_premium`
      FROM `products` AS `t10`
      INNER JOIN (
        SELECT
          `t7`.`category`,
          AVG(`t7`.`price`) AS `category_avg_price`
        FROM `products` AS `t7`
        GROUP BY
          1
      ) AS `t13`
        ON `t10`.`category` = `t13`.`category`
    ) AS `t32`
      ON `t8`.`product_id` = `t32`.`product_id`
  ) AS `t44`
)
SELECT
  `t101`.*
  EXCEPT (`gift_items`, `items`, `main_category_items`, `novel_items`, `premium_items`)
FROM (
  SELECT
    `t100`.`customer_id`,
    `t100`.`gender`,
    `t100`.`prefecture`,
    `t100`.`rank`,
    `t100`.`email_opt_in`,
    `t100`.`line_opt_in`,
    `t100`.`dm_opt_in`,
    `t100`.`push_opt_in`,
    `t100`.`registered_on`,
    `t100`.`has_line`,
    `t100`.`age`,
    `t100`.`age_band`,
    `t100`.`days_since_registration`,
    `t100`.`customer_hash`,
    `t100`.`recency_days`,
    `t100`.`frequency`,
    `t100`.`monetary`,
    `t100`.`r_score`,
    `t100`.`f_score`,
    `t100`.`m_score`,
    `t100`.`first_order`,
    `t100`.`last_order`,
    `t100`.`tenure_days`,
    `t100`.`cpm_group`,
    `t100`.`cpm_status`,
    `t100`.`orders_365d`,
    `t100`.`revenue_365d`,
    `t100`.`items`,
    `t100`.`gift_items`,
    `t100`.`novel_items`,
    `t100`.`premium_items`,
    `t100`.`main_category`,
    `t100`.`main_category_items`,
    `t100`.`main_product`,
    `t100`.`subscriptions_ever`,
    `t100`.`active_subscriptions`,
    `t100`.`point_balance`,
    `t100`.`next_point_expiry_on`,
    `t100`.`last_access_at`,
    `t100`.`events_30d`,
    `t100`.`favorites`,
    `t100`.`cart_adds_30d`,
    `t100`.`access_days_30d`,
    `t100`.`most_viewed_category`,
    `t100`.`gift_share`,
    `t100`.`novelty_share`,
    `t100`.`premium_share`,
    `t100`.`main_category_share`,
    `t100`.`mean_interval_days`,
    `t100`.`average_order_value`,
    `t100`.`subscription_status`,
    CASE
      WHEN `t100`.`frequency` = 0
      THEN 'registered'
      WHEN `t100`.`recency_days` > IF(`t100`.`frequency` >= 2, GREATEST(`t100`.`mean_interval_days` * 2, 60), 180)
      THEN 'dormant'
      WHEN `t100`.`frequency` = 1
      THEN 'first'
      WHEN `t100`.`frequency` < 5
      THEN 'repeat'
      ELSE 'loyal'
    END AS `lifecycle_stage`,
    CASE
      WHEN `t100`.`frequency` = 0
      THEN NULL
      WHEN `t100`.`gift_share` >= 0.3
      THEN 'gift_giver'
      WHEN `t100`.`novelty_share` >= 0.4
      THEN 'novelty_seeker'
      WHEN (
        `t100`.`frequency` >= 3
      ) AND (
        `t100`.`main_category_share` >= 0.6
      )
      THEN 'ingredient_lover'
      WHEN `t100`.`premium_share` >= 0.3
      THEN 'self_reward'
      ELSE 'general'
    END AS `persona`,
    DATE(2026, 10, 31) AS `as_of`
  FROM (
    SELECT
      `t99`.`customer_id`,
      `t99`.`gender`,
      `t99`.`prefecture`,
      `t99`.`rank`,
      `t99`.`email_opt_in`,
      `t99`.`line_opt_in`,
      `t99`.`dm_opt_in`,
      `t99`.`push_opt_in`,
      `t99`.`registered_on`,
      `t99`.`has_line`,
      `t99`.`age`,
      `t99`.`age_band`,
      `t99`.`days_since_registration`,
      `t99`.`customer_hash`,
      `t99`.`recency_days`,
      COALESCE(`t99`.`frequency`, 0) AS `frequency`,
      COALESCE(`t99`.`monetary`, 0) AS `monetary`,
      `t99`.`r_score`,
      `t99`.`f_score`,
      `t99`.`m_score`,
      `t99`.`first_order`,
      `t99`.`last_order`,
      `t99`.`tenure_days`,
      `t99`.`cpm_group`,
      `t99`.`cpm_status`,
      COALESCE(`t99`.`orders_365d`, 0) AS `orders_365d`,
      COALESCE(`t99`.`revenue_365d`, 0) AS `revenue_365d`,
      `t99`.`items`,
      `t99`.`gift_items`,
      `t99`.`novel_items`,
      `t99`.`premium_items`,
      `t99`.`main_category`,
      `t99`.`main_category_items`,
      `t99`.`main_product`,
      COALESCE(`t99`.`subscriptions_ever`, 0) AS `subscriptions_ever`,
      COALESCE(`t99`.`active_subscriptions`, 0) AS `active_subscriptions`,
      COALESCE(`t99`.`point_balance`, 0) AS `point_balance`,
      `t99`.`next_point_expiry_on`,
      `t99`.`last_access_at`,
      COALESCE(`t99`.`events_30d`, 0) AS `events_30d`,
      COALESCE(`t99`.`favorites`, 0) AS `favorites`,
      COALESCE(`t99`.`cart_adds_30d`, 0) AS `cart_adds_30d`,
      COALESCE(`t99`.`access_days_30d`, 0) AS `access_days_30d`,
      `t99`.`most_viewed_category`,
      IF(
        `t99`.`items` > 0,
        CAST(ROUND(ieee_divide(CAST(`t99`.`gift_items` AS FLOAT64), `t99`.`items`), 4) AS FLOAT64),
        NULL
      ) AS `gift_share`,
      IF(
        `t99`.`items` > 0,
        CAST(ROUND(ieee_divide(CAST(`t99`.`novel_items` AS FLOAT64), `t99`.`items`), 4) AS FLOAT64),
        NULL
      ) AS `novelty_share`,
      IF(
        `t99`.`items` > 0,
        CAST(ROUND(ieee_divide(CAST(`t99`.`premium_items` AS FLOAT64), `t99`.`items`), 4) AS FLOAT64),
        NULL
      ) AS `premium_share`,
      IF(
        `t99`.`items` > 0,
        CAST(ROUND(ieee_divide(CAST(`t99`.`main_category_items` AS FLOAT64), `t99`.`items`), 4) AS FLOAT64),
        NULL
      ) AS `main_category_share`,
      IF(
        COALESCE(`t99`.`frequency`, 0) >= 2,
        CAST(ROUND(
          ieee_divide(CAST(`t99`.`tenure_days` AS FLOAT64), COALESCE(`t99`.`frequency`, 0) - 1),
          1
        ) AS FLOAT64),
        NULL
      ) AS `mean_interval_days`,
      IF(
        COALESCE(`t99`.`frequency`, 0) > 0,
        CAST(ROUND(
          ieee_divide(CAST(COALESCE(`t99`.`monetary`, 0) AS FLOAT64), COALESCE(`t99`.`frequency`, 0)),
          0
        ) AS INT64),
        NULL
      ) AS `average_order_value`,
      CASE
        WHEN COALESCE(`t99`.`active_subscriptions`, 0) > 0
        THEN 'active'
        WHEN COALESCE(`t99`.`subscriptions_ever`, 0) > 0
        THEN 'cancelled'
        ELSE 'never'
      END AS `subscription_status`
    FROM (
      SELECT
        `t98`.*
        EXCEPT (`customer_id_right`)
      FROM (
        SELECT
          `t97`.`customer_id`,
          `t97`.`gender`,
          `t97`.`prefecture`,
          `t97`.`rank`,
          `t97`.`email_opt_in`,
          `t97`.`line_opt_in`,
          `t97`.`dm_opt_in`,
          `t97`.`push_opt_in`,
          `t97`.`registered_on`,
          `t97`.`has_line`,
          `t97`.`age`,
          `t97`.`age_band`,
          `t97`.`days_since_registration`,
          `t97`.`customer_hash`,
          `t97`.`recency_days`,
          `t97`.`frequency`,
          `t97`.`monetary`,
          `t97`.`r_score`,
          `t97`.`f_score`,
          `t97`.`m_score`,
          `t97`.`first_order`,
          `t97`.`last_order`,
          `t97`.`tenure_days`,
          `t97`.`cpm_group`,
          `t97`.`cpm_status`,
          `t97`.`orders_365d`,
          `t97`.`revenue_365d`,
          `t97`.`items`,
          `t97`.`gift_items`,
          `t97`.`novel_items`,
          `t97`.`premium_items`,
          `t97`.`main_category`,
          `t97`.`main_category_items`,
          `t97`.`main_product`,
          `t97`.`subscriptions_ever`,
          `t97`.`active_subscriptions`,
          `t97`.`point_balance`,
          `t97`.`next_point_expiry_on`,
          `t63`.`customer_id` AS `customer_id_right`,
          `t63`.`last_access_at`,
          `t63`.`events_30d`,
          `t63`.`favorites`,
          `t63`.`cart_adds_30d`,
          `t63`.`access_days_30d`,
          `t63`.`most_viewed_category`
        FROM (
          SELECT
            `t95`.*
            EXCEPT (`customer_id_right`)
          FROM (
            SELECT
              `t94`.`customer_id`,
              `t94`.`gender`,
              `t94`.`prefecture`,
              `t94`.`rank`,
              `t94`.`email_opt_in`,
              `t94`.`line_opt_in`,
              `t94`.`dm_opt_in`,
              `t94`.`push_opt_in`,
              `t94`.`registered_on`,
              `t94`.`has_line`,
              `t94`.`age`,
              `t94`.`age_band`,
              `t94`.`days_since_registration`,
              `t94`.`customer_hash`,
              `t94`.`recency_days`,
              `t94`.`frequency`,
              `t94`.`monetary`,
              `t94`.`r_score`,
              `t94`.`f_score`,
              `t94`.`m_score`,
              `t94`.`first_order`,
              `t94`.`last_order`,
              `t94`.`tenure_days`,
              `t94`.`cpm_group`,
              `t94`.`cpm_status`,
              `t94`.`orders_365d`,
              `t94`.`revenue_365d`,
              `t94`.`items`,
              `t94`.`gift_items`,
              `t94`.`novel_items`,
              `t94`.`premium_items`,
              `t94`.`main_category`,
              `t94`.`main_category_items`,
              `t94`.`main_product`,
              `t94`.`subscriptions_ever`,
              `t94`.`active_subscriptions`,
              `t39`.`customer_id` AS `customer_id_right`,
              `t39`.`point_balance`,
              `t39`.`next_point_expiry_on`
            FROM (
              SELECT
                `t92`.*
                EXCEPT (`customer_id_right`)
              FROM (
                SELECT
                  `t91`.`customer_id`,
                  `t91`.`gender`,
                  `t91`.`prefecture`,
                  `t91`.`rank`,
                  `t91`.`email_opt_in`,
                  `t91`.`line_opt_in`,
                  `t91`.`dm_opt_in`,
                  `t91`.`push_opt_in`,
                  `t91`.`registered_on`,
                  `t91`.`has_line`,
                  `t91`.`age`,
                  `t91`.`age_band`,
                  `t91`.`days_since_registration`,
                  `t91`.`customer_hash`,
                  `t91`.`recency_days`,
                  `t91`.`frequency`,
                  `t91`.`monetary`,
                  `t91`.`r_score`,
                  `t91`.`f_score`,
                  `t91`.`m_score`,
                  `t91`.`first_order`,
                  `t91`.`last_order`,
                  `t91`.`tenure_days`,
                  `t91`.`cpm_group`,
                  `t91`.`cpm_status`,
                  `t91`.`orders_365d`,
                  `t91`.`revenue_365d`,
                  `t91`.`items`,
                  `t91`.`gift_items`,
                  `t91`.`novel_items`,
                  `t91`.`premium_items`,
                  `t91`.`main_category`,
                  `t91`.`main_category_items`,
                  `t91`.`main_product`,
                  `t35`.`customer_id` AS `customer_id_right`,
                  `t35`.`subscriptions_ever`,
                  `t35`.`active_subscriptions`
                FROM (
                  SELECT
                    `t89`.*
                    EXCEPT (`customer_id_right`)
                  FROM (
                    SELECT
                      `t85`.`customer_id`,
                      `t85`.`gender`,
                      `t85`.`prefecture`,
                      `t85`.`rank`,
                      `t85`.`email_opt_in`,
                      `t85`.`line_opt_in`,
                      `t85`.`dm_opt_in`,
                      `t85`.`push_opt_in`,
                      `t85`.`registered_on`,
                      `t85`.`has_line`,
                      `t85`.`age`,
                      `t85`.`age_band`,
                      `t85`.`days_since_registration`,
                      `t85`.`customer_hash`,
                      `t85`.`recency_days`,
                      `t85`.`frequency`,
                      `t85`.`monetary`,
                      `t85`.`r_score`,
                      `t85`.`f_score`,
                      `t85`.`m_score`,
                      `t85`.`first_order`,
                      `t85`.`last_order`,
                      `t85`.`tenure_days`,
                      `t85`.`cpm_group`,
                      `t85`.`cpm_status`,
                      `t85`.`orders_365d`,
                      `t85`.`revenue_365d`,
                      `t88`.`customer_id` AS `customer_id_right`,
                      `t88`.`items`,
                      `t88`.`gift_items`,
                      `t88`.`novel_items`,
                      `t88`.`premium_items`,
                      `t88`.`main_category`,
                      `t88`.`main_category_items`,
                      `t88`.`main_product`
                    FROM (
                      SELECT
                        `t81`.*
                        EXCEPT (`customer_id_right`)
                      FROM (
                        SELECT
                          `t79`.`customer_id`,
                          `t79`.`gender`,
                          `t79`.`prefecture`,
                          `t79`.`rank`,
                          `t79`.`email_opt_in`,
                          `t79`.`line_opt_in`,
                          `t79`.`dm_opt_in`,
                          `t79`.`push_opt_in`,
                          `t79`.`registered_on`,
                          `t79`.`has_line`,
                          `t79`.`age`,
                          `t79`.`age_band`,
                          `t79`.`days_since_registration`,
                          `t79`.`customer_hash`,
                          `t79`.`recency_days`,
                          `t79`.`frequency`,
                          `t79`.`monetary`,
                          `t79`.`r_score`,
                          `t79`.`f_score`,
                          `t79`.`m_score`,
                          `t79`.`first_order`,
                          `t79`.`last_order`,
                          `t79`.`tenure_days`,
                          `t79`.`cpm_group`,
                          `t79`.`cpm_status`,
                          `t31`.`customer_id` AS `customer_id_right`,
                          `t31`.`orders_365d`,
                          `t31`.`revenue_365d`
                        FROM (
                          SELECT
                            `t73`.*
                            EXCEPT (`customer_id_right`)
                          FROM (
                            SELECT
                              `t70`.`customer_id`,
                              `t70`.`gender`,
                              `t70`.`prefecture`,
                              `t70`.`rank`,
                              `t70`.`email_opt_in`,
                              `t70`.`line_opt_in`,
                              `t70`.`dm_opt_in`,
                              `t70`.`push_opt_in`,
                              `t70`.`registered_on`,
                              `t70`.`has_line`,
                              `t70`.`age`,
                              `t70`.`age_band`,
                              `t70`.`days_since_registration`,
                              `t70`.`customer_hash`,
                              `t70`.`recency_days`,
                              `t70`.`frequency`,
                              `t70`.`monetary`,
                              `t70`.`r_score`,
                              `t70`.`f_score`,
                              `t70`.`m_score`,
                              `t53`.`customer_id` AS `customer_id_right`,
                              `t53`.`first_order`,
                              `t53`.`last_order`,
                              `t53`.`tenure_days`,
                              `t53`.`cpm_group`,
                              `t53`.`cpm_status`
                            FROM (
                              SELECT
                                `t68`.*
                                EXCEPT (`customer_id_right`)
                              FROM (
                                SELECT
                                  `t56`.`customer_id`,
                                  `t56`.`gender`,
                                  `t56`.`prefecture`,
                                  `t56`.`rank`,
                                  `t56`.`email_opt_in`,
                                  `t56`.`line_opt_in`,
                                  `t56`.`dm_opt_in`,
                                  `t56`.`push_opt_in`,
                                  `t56`.`registered_on`,
                                  `t56`.`has_line`,
                                  `t56`.`age`,
                                  `t56`.`age_band`,
                                  `t56`.`days_since_registration`,
                                  `t56`.`customer_hash`,
                                  `t61`.`customer_id` AS `customer_id_right`,
                                  `t61`.`recency_days`,
                                  `t61`.`frequency`,
                                  `t61`.`monetary`,
                                  `t61`.`r_score`,
                                  `t61`.`f_score`,
                                  `t61`.`m_score`
                                FROM (
                                  SELECT
                                    `t51`.*
                                    EXCEPT (`customer_id_right`)
                                  FROM (
                                    SELECT
                                      `t43`.`customer_id`,
                                      `t43`.`gender`,
                                      `t43`.`prefecture`,
                                      `t43`.`rank`,
                                      `t43`.`email_opt_in`,
                                      `t43`.`line_opt_in`,
                                      `t43`.`dm_opt_in`,
                                      `t43`.`push_opt_in`,
                                      `t43`.`registered_on`,
                                      `t43`.`has_line`,
                                      `t43`.`age`,
                                      `t43`.`age_band`,
                                      `t43`.`days_since_registration`,
                                      `t9`.`customer_id` AS `customer_id_right`,
                                      `t9`.`customer_hash`
                                    FROM (
                                      SELECT
                                        `t22`.`customer_id`,
                                        `t22`.`gender`,
                                        `t22`.`prefecture`,
                                        `t22`.`rank`,
                                        `t22`.`email_opt_in`,
                                        `t22`.`line_opt_in`,
                                        `t22`.`dm_opt_in`,
                                        `t22`.`push_opt_in`,
                                        `t22`.`registered_on`,
                                        `t22`.`has_line`,
                                        `t22`.`age`,
                                        IF(
                                          `t22`.`age` IS NOT NULL,
                                          CAST(FLOOR(ieee_divide(`t22`.`age`, 10)) AS INT64) * 10,
                                          NULL
                                        ) AS `age_band`,
                                        DATE_DIFF(DATE(2026, 10, 31), `t22`.`registered_on`, DAY) AS `days_since_registration`
                                      FROM (
                                        SELECT
                                          `t6`.`customer_id`,
                                          `t6`.`gender`,
                                          `t6`.`prefecture`,
                                          `t6`.`rank`,
                                          `t6`.`email_opt_in`,
                                          `t6`.`line_opt_in`,
                                          `t6`.`dm_opt_in`,
                                          `t6`.`push_opt_in`,
                                          DATE(TIMESTAMP_ADD(`t6`.`registered_at`, INTERVAL '9' HOUR)) AS `registered_on`,
                                          `t6`.`line_user_id` IS NOT NULL AS `has_line`,
                                          IF(
                                            `t6`.`birth_date` IS NOT NULL,
                                            CAST(FLOOR(ieee_divide(DATE_DIFF(DATE(2026, 10, 31), `t6`.`birth_date`, DAY), 365.25)) AS INT64),
                                            NULL
                                          ) AS `age`
                                        FROM `customers` AS `t6`
                                      ) AS `t22`
                                    ) AS `t43`
                                    LEFT OUTER JOIN `customer_hashes` AS `t9`
                                      ON `t43`.`customer_id` = `t9`.`customer_id`
                                  ) AS `t51`
                                ) AS `t56`
                                LEFT OUTER JOIN (
                                  SELECT
                                    `t55`.`customer_id`,
                                    `t55`.`recency_days`,
                                    `t55`.`frequency`,
                                    `t55`.`monetary`,
                                    `t55`.`r_score`,
                                    `t55`.`f_score`,
                                    `t55`.`m_score`
                                  FROM (
                                    SELECT
                                      `t38`.`customer_id`,
                                      `t38`.`last_order`,
                                      `t38`.`frequency`,
                                      `t38`.`monetary`,
                                      `t38`.`recency_days`,
                                      1 + IF(`t38`.`recency_days` <= 30, 1, 0) + IF(`t38`.`recency_days` <= 60, 1, 0) + IF(`t38`.`recency_days` <= 90, 1, 0) + IF(`t38`.`recency_days` <= 180, 1, 0) AS `r_score`,
                                      1 + IF(`t38`.`frequency` >= 2, 1, 0) + IF(`t38`.`frequency` >= 3, 1, 0) + IF(`t38`.`frequency` >= 5, 1, 0) + IF(`t38`.`frequency` >= 10, 1, 0) AS `f_score`,
                                      1 + IF(`t38`.`monetary` >= 10000, 1, 0) + IF(`t38`.`monetary` >= 30000, 1, 0) + IF(`t38`.`monetary` >= 50000, 1, 0) + IF(`t38`.`monetary` >= 100000, 1, 0) AS `m_score`
                                    FROM (
                                      SELECT
                                        `t28`.`customer_id`,
                                        `t28`.`last_order`,
                                        `t28`.`frequency`,
                                        `t28`.`monetary`,
                                        DATE_DIFF(DATE(2026, 10, 31), `t28`.`last_order`, DAY) AS `recency_days`
                                      FROM (
                                        SELECT
                                          `t20`.`customer_id`,
                                          MAX(`t20`.`order_date`) AS `last_order`,
                                          COUNT(*) AS `frequency`,
                                          SUM(`t20`.`total`) AS `monetary`
                                        FROM `t12` AS `t20`
                                        GROUP BY
                                          1
                                      ) AS `t28`
                                    ) AS `t38`
                                  ) AS `t55`
                                ) AS `t61`
                                  ON `t56`.`customer_id` = `t61`.`customer_id`
                              ) AS `t68`
                            ) AS `t70`
                            LEFT OUTER JOIN (
                              SELECT
                                `t45`.`customer_id`,
                                `t45`.`first_order`,
                                `t45`.`last_order`,
                                `t45`.`tenure_days`,
                                `t45`.`cpm_group`,
                                `t45`.`cpm_status`
                              FROM (
                                SELECT
                                  `t37`.`customer_id`,
                                  `t37`.`first_order`,
                                  `t37`.`last_order`,
                                  `t37`.`orders`,
                                  `t37`.`cumulative`,
                                  `t37`.`tenure_days`,
                                  `t37`.`days_since_last`,
                                  CASE
                                    WHEN `t37`.`orders` = 1
                                    THEN 'first'
                                    WHEN `t37`.`tenure_days` < 90
                                    THEN 'toddler'
                                    WHEN `t37`.`cumulative` < 70000
                                    THEN 'steady'
                                    WHEN `t37`.`tenure_days` < 210
                                    THEN 'trendy'
                                    ELSE 'loyal'
                                  END AS `cpm_group`,
                                  IF(`t37`.`days_since_last` >= 240, 'lapsed', 'active') AS `cpm_status`
                                FROM (
                                  SELECT
                                    `t27`.`customer_id`,
                                    `t27`.`first_order`,
                                    `t27`.`last_order`,
                                    `t27`.`orders`,
                                    `t27`.`cumulative`,
                                    DATE_DIFF(`t27`.`last_order`, `t27`.`first_order`, DAY) AS `tenure_days`,
                                    DATE_DIFF(DATE(2026, 10, 31), `t27`.`last_order`, DAY) AS `days_since_last`
                                  FROM (
                                    SELECT
                                      `t20`.`customer_id`,
                                      MIN(`t20`.`order_date`) AS `first_order`,
                                      MAX(`t20`.`order_date`) AS `last_order`,
                                      COUNT(*) AS `orders`,
                                      SUM(`t20`.`total`) AS `cumulative`
                                    FROM `t12` AS `t20`
                                    GROUP BY
                                      1
                                  ) AS `t27`
                                ) AS `t37`
                              ) AS `t45`
                            ) AS `t53`
                              ON `t70`.`customer_id` = `t53`.`customer_id`
                          ) AS `t73`
                        ) AS `t79`
                        LEFT OUTER JOIN (
                          SELECT
                            `t19`.`customer_id`,
                            COUNT(`t19`.`order_id`) AS `orders_365d`,
                            SUM(`t19`.`total`) AS `revenue_365d`
                          FROM (
                            SELECT
                              `t3`.`order_id`,
                              `t3`.`customer_id`,
                              `t3`.`ordered_at`,
                              `t3`.`status`,
                              `t3`.`channel`,
                              `t3`.`subtotal`,
                              `t3`.`discount`,
                              `t3`.`shipping_fee`,
                              `t3`.`points_used`,
                              `t3`.`total`,
                              `t3`.`points_earned`,
                              `t3`.`coupon_code`,
                              `t3`.`subscription_id`,
                              `t3`.`payment_method`,
                              `t3`.`shipping_prefecture`,
                              `t3`.`is_gift`,
                              DATE(TIMESTAMP_ADD(`t3`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
                            FROM `orders` AS `t3`
                            WHERE
                              `t3`.`status` = 'completed'
                              AND `t3`.`customer_id` IS NOT NULL
                              AND DATE(TIMESTAMP_ADD(`t3`.`ordered_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
                              AND DATE(TIMESTAMP_ADD(`t3`.`ordered_at`, INTERVAL '9' HOUR)) > DATE(2025, 10, 31)
                          ) AS `t19`
                          GROUP BY
                            1
                        ) AS `t31`
                          ON `t79`.`customer_id` = `t31`.`customer_id`
                      ) AS `t81`
                    ) AS `t85`
                    LEFT OUTER JOIN (
                      SELECT
                        `t86`.*
                        EXCEPT (`customer_id_right`)
                      FROM (
                        SELECT
                          `t84`.`customer_id`,
                          `t84`.`items`,
                          `t84`.`gift_items`,
                          `t84`.`novel_items`,
                          `t84`.`premium_items`,
                          `t84`.`main_category`,
                          `t84`.`main_category_items`,
                          `t77`.`customer_id` AS `customer_id_right`,
                          `t77`.`main_product`
                        FROM (
                          SELECT
                            `t80`.*
                            EXCEPT (`customer_id_right`)
                          FROM (
                            SELECT
                              `t67`.`customer_id`,
                              `t67`.`items`,
                              `t67`.`gift_items`,
                              `t67`.`novel_items`,
                              `t67`.`premium_items`,
                              `t78`.`customer_id` AS `customer_id_right`,
                              `t78`.`main_category`,
                              `t78`.`main_category_items`
                            FROM (
                              SELECT
                                `t59`.`customer_id`,
                                SUM(`t59`.`quantity`) AS `items`,
                                SUM(`t59`.`gift`) AS `gift_items`,
                                SUM(`t59`.`novel`) AS `novel_items`,
                                SUM(`t59`.`premium`) AS `premium_items`
                              FROM `t57` AS `t59`
                              GROUP BY
                                1
                            ) AS `t67`
                            LEFT OUTER JOIN (
                              SELECT
                                `t72`.`customer_id`,
                                `t72`.`cat` AS `main_category`,
                                `t72`.`cat_items` AS `main_category_items`
                              FROM (
                                SELECT
                                  `t66`.`customer_id`,
                                  `t66`.`cat`,
                                  `t66`.`cat_items`,
                                  `t66`.`cat_amount`,
                                  ROW_NUMBER() OVER (
                                    PARTITION BY `t66`.`customer_id`
                                    ORDER BY `t66`.`cat_amount` DESC, `t66`.`cat_items` DESC, `t66`.`cat` ASC
                                  ) - 1 AS `rn`
                                FROM (
                                  SELECT
                                    `t59`.`customer_id`,
                                    `t59`.`cat`,
                                    SUM(`t59`.`quantity`) AS `cat_items`,
                                    SUM(`t59`.`amount`) AS `cat_amount`
                                  FROM `t57` AS `t59`
                                  GROUP BY
                                    1,
                                    2
                                ) AS `t66`
                              ) AS `t72`
                              WHERE
                                `t72`.`rn` = 0
                            ) AS `t78`
                              ON `t67`.`customer_id` = `t78`.`customer_id`
                          ) AS `t80`
                        ) AS `t84`
                        LEFT OUTER JOIN (
                          SELECT
                            `t71`.`customer_id`,
                            `t71`.`product_id` AS `main_product`
                          FROM (
                            SELECT
                              `t65`.`customer_id`,
                              `t65`.`product_id`,
                              `t65`.`amount`,
                              ROW_NUMBER() OVER (
                                PARTITION BY `t65`.`customer_id`
                                ORDER BY `t65`.`amount` DESC, `t65`.`product_id` ASC
                              ) - 1 AS `rn`
                            FROM (
                              SELECT
                                `t59`.`customer_id`,
                                `t59`.`product_id`,
                                SUM(`t59`.`amount`) AS `amount`
                              FROM `t57` AS `t59`
                              GROUP BY
                                1,
                                2
                            ) AS `t65`
                          ) AS `t71`
                          WHERE
                            `t71`.`rn` = 0
                        ) AS `t77`
                          ON `t84`.`customer_id` = `t77`.`customer_id`
                      ) AS `t86`
                    ) AS `t88`
                      ON `t85`.`customer_id` = `t88`.`customer_id`
                  ) AS `t89`
                ) AS `t91`
                LEFT OUTER JOIN (
                  SELECT
                    `t23`.`customer_id`,
                    COUNT(`t23`.`subscription_id`) AS `subscriptions_ever`,
                    SUM(`t23`.`is_active`) AS `active_subscriptions`
                  FROM (
                    SELECT
                      `t1`.`subscription_id`,
                      `t1`.`customer_id`,
                      `t1`.`product_id`,
                      `t1`.`quantity`,
                      `t1`.`unit_price`,
                      `t1`.`cycle_unit`,
                      `t1`.`cycle_interval`,
                      `t1`.`status`,
                      `t1`.`started_at`,
                      `t1`.`cancelled_at`,
                      `t1`.`cancel_reason`,
                      `t1`.`next_delivery_on`,
                      `t1`.`updated_at`,
                      IF(
                        (
                          `t1`.`cancelled_at` IS NULL
                        )
                        OR (
                          DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) > DATE(2026, 10, 31)
                        ),
                        1,
                        0
                      ) AS `is_active`
                    FROM `subscriptions` AS `t1`
                    WHERE
                      DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
                  ) AS `t23`
                  GROUP BY
                    1
                ) AS `t35`
                  ON `t91`.`customer_id` = `t35`.`customer_id`
              ) AS `t92`
            ) AS `t94`
            LEFT OUTER JOIN (
              SELECT
                `t14`.`customer_id`,
                SUM(`t14`.`points`) AS `point_balance`,
                MIN(
                  IF(
                    (
                      `t14`.`kind` = 'earn'
                    ) AND (
                      `t14`.`expires_on` > DATE(2026, 10, 31)
                    ),
                    `t14`.`expires_on`,
                    NULL
                  )
                ) AS `next_point_expiry_on`
              FROM (
                SELECT
                  *
                FROM `point_transactions` AS `t0`
                WHERE
                  DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
              ) AS `t14`
              GROUP BY
                1
            ) AS `t39`
              ON `t94`.`customer_id` = `t39`.`customer_id`
          ) AS `t95`
        ) AS `t97`
        LEFT OUTER JOIN (
          SELECT
            `t60`.*
            EXCEPT (`customer_id_right`)
          FROM (
            SELECT
              `t52`.`customer_id`,
              `t52`.`last_access_at`,
              `t52`.`events_30d`,
              `t52`.`favorites`,
              `t52`.`cart_adds_30d`,
              `t52`.`access_days_30d`,
              `t49`.`customer_id` AS `customer_id_right`,
              `t49`.`most_viewed_category`
            FROM (
              SELECT
                `t46`.*
                EXCEPT (`customer_id_right`)
              FROM (
                SELECT
                  `t40`.`customer_id`,
                  `t40`.`last_access_at`,
                  `t40`.`events_30d`,
                  `t40`.`favorites`,
                  `t40`.`cart_adds_30d`,
                  `t30`.`customer_id` AS `customer_id_right`,
                  `t30`.`access_days_30d`
                FROM (
                  SELECT
                    `t15`.`customer_id`,
                    MAX(`t15`.`occurred_at`) AS `last_access_at`,
                    SUM(IF(`t15`.`day` > DATE(2026, 10, 1), 1, 0)) AS `events_30d`,
                    SUM(IF(`t15`.`event_type` = 'favorite', 1, 0)) AS `favorites`,
                    SUM(
                      IF(
                        (
                          `t15`.`day` > DATE(2026, 10, 1)
                        ) AND (
                          `t15`.`event_type` = 'cart_add'
                        ),
                        1,
                        0
                      )
                    ) AS `cart_adds_30d`
                  FROM (
                    SELECT
                      `t2`.`event_id`,
                      `t2`.`occurred_at`,
                      `t2`.`event_type`,
                      `t2`.`anonymous_id`,
                      `t2`.`customer_id`,
                      `t2`.`session_id`,
                      `t2`.`product_id`,
                      `t2`.`category`,
                      `t2`.`search_query`,
                      `t2`.`page_url`,
                      `t2`.`referrer`,
                      `t2`.`quantity`,
                      `t2`.`source`,
                      DATE(TIMESTAMP_ADD(`t2`.`occurred_at`, INTERVAL '9' HOUR)) AS `day`
                    FROM `web_events` AS `t2`
                    WHERE
                      `t2`.`customer_id` IS NOT NULL
                      AND DATE(TIMESTAMP_ADD(`t2`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
                  ) AS `t15`
                  GROUP BY
                    1
                ) AS `t40`
                LEFT OUTER JOIN (
                  SELECT
                    `t17`.`customer_id`,
                    COUNT(`t17`.`day`) AS `access_days_30d`
                  FROM (
                    SELECT DISTINCT
                      `t2`.`customer_id`,
                      DATE(TIMESTAMP_ADD(`t2`.`occurred_at`, INTERVAL '9' HOUR)) AS `day`
                    FROM `web_events` AS `t2`
                    WHERE
                      `t2`.`customer_id` IS NOT NULL
                      AND DATE(TIMESTAMP_ADD(`t2`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
                      AND DATE(TIMESTAMP_ADD(`t2`.`occurred_at`, INTERVAL '9' HOUR)) > DATE(2026, 10, 1)
                  ) AS `t17`
                  GROUP BY
                    1
                ) AS `t30`
                  ON `t40`.`customer_id` = `t30`.`customer_id`
              ) AS `t46`
            ) AS `t52`
            LEFT OUTER JOIN (
              SELECT
                `t42`.`customer_id`,
                `t42`.`category` AS `most_viewed_category`
              FROM (
                SELECT
                  `t24`.`customer_id`,
                  `t24`.`category`,
                  `t24`.`n`,
                  ROW_NUMBER() OVER (PARTITION BY `t24`.`customer_id` ORDER BY `t24`.`n` DESC, `t24`.`category` ASC) - 1 AS `rn`
                FROM (
                  SELECT
                    `t16`.`customer_id`,
                    `t16`.`category`,
                    COUNT(`t16`.`category`) AS `n`
                  FROM (
                    SELECT
                      `t2`.`event_id`,
                      `t2`.`occurred_at`,
                      `t2`.`event_type`,
                      `t2`.`anonymous_id`,
                      `t2`.`customer_id`,
                      `t2`.`session_id`,
                      `t2`.`product_id`,
                      `t2`.`category`,
                      `t2`.`search_query`,
                      `t2`.`page_url`,
                      `t2`.`referrer`,
                      `t2`.`quantity`,
                      `t2`.`source`,
                      DATE(TIMESTAMP_ADD(`t2`.`occurred_at`, INTERVAL '9' HOUR)) AS `day`
                    FROM `web_events` AS `t2`
                    WHERE
                      `t2`.`customer_id` IS NOT NULL
                      AND DATE(TIMESTAMP_ADD(`t2`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
                      AND DATE(TIMESTAMP_ADD(`t2`.`occurred_at`, INTERVAL '9' HOUR)) > DATE(2026, 8, 2)
                      AND `t2`.`category` IS NOT NULL
                  ) AS `t16`
                  GROUP BY
                    1,
                    2
                ) AS `t24`
              ) AS `t42`
              WHERE
                `t42`.`rn` = 0
            ) AS `t49`
              ON `t52`.`customer_id` = `t49`.`customer_id`
          ) AS `t60`
        ) AS `t63`
          ON `t97`.`customer_id` = `t63`.`customer_id`
      ) AS `t98`
    ) AS `t99`
  ) AS `t100`
) AS `t101`
